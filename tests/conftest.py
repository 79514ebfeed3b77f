"""Shared fixtures: real SQLite workspaces in tmp dirs, paths to test data and ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(os.environ.get("REVIEW_SHARED_DATA", ROOT.parent / "shared" / "data"))
PROTOCOLS = ROOT / "protocols"
CORPUS = ROOT / "corpora" / "sadc-smart-cities"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def shared_path(*parts: str) -> Path:
    """A file in ../shared/data, or skip the test cleanly when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data not available: {p}")
    return p


@pytest.fixture
def protocol_path() -> Path:
    return PROTOCOLS / "sadc-smart-cities.toml"


@pytest.fixture
def ws(tmp_path: Path, protocol_path: Path):
    """A fresh workspace with the SADC protocol, in a tmp dir."""
    from review import protocol
    from review.store import init

    w = init(tmp_path / "review.db", protocol.load(protocol_path))
    yield w
    w.close()


@pytest.fixture
def db_path(ws) -> str:
    return str(ws.path)


async def settled(app, pilot) -> None:
    """Wait for a Textual app's database workers (reads off the UI thread) and the callbacks
    they post back, so a Pilot test checks what the screen shows once the read has arrived."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def kill_after(script: Path, db: Path | str, prefix: str, want: int, timeout: float) -> int:
    """Run ``script db`` (a driver printing "<prefix> N" after its Nth committed change), SIGKILL
    it once it has reported ``want`` changes (or at ``timeout`` seconds); the last N reported."""
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    reported = 0
    deadline = time.monotonic() + timeout
    while reported < want and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            reported = int(line.split()[1])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return reported
