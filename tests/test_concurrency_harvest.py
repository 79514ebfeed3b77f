"""Two harvests of one source never share a search row; imports racing on one file store it once;
`review status` lists unfinished searches (failed ones included) with the command that resumes them.

Real subprocesses against a local HTTP server serving a real OpenAlex response."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from review.cli import cli
from review.errors import ReviewError
from review.harvest.openalex import harvest
from review.store import locks
from review.store.records import count_records, searches, unfinished_searches

ROOT = Path(__file__).resolve().parent.parent
WORKS: list[dict[str, Any]] = json.loads(
    (ROOT / "tests" / "data" / "openalex" / "works-search-page.json").read_text("utf-8")
)["results"]
PAGE = 10


class _Slow(BaseHTTPRequestHandler):
    delay = 0.0  # seconds before every page after the first
    fail = False
    hits: list[str]

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        q = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        cur = q.get("cursor", "*")
        idx = 0 if cur == "*" else int(cur[1:])
        self.hits.append(cur)
        if self.fail and idx >= 2:
            body, status = {"error": "boom"}, 500
        else:
            if idx > 0:
                time.sleep(self.delay)
            chunk = WORKS[idx * PAGE : (idx + 1) * PAGE]
            meta = {"count": len(WORKS), "next_cursor": f"c{idx + 1}" if chunk else None}
            body, status = {"meta": meta, "results": chunk, "group_by": []}, 200
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the killed harvest hung up
            pass


@pytest.fixture
def slow_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Slow]]:
    handler = type("H", (_Slow,), {"hits": [], "delay": 0.0, "fail": False})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    for k, v in {
        "REVIEW_OPENALEX_URL": f"http://127.0.0.1:{httpd.server_address[1]}",
        "REVIEW_OPENALEX_RETRIES": "0",
        "REVIEW_OPENALEX_BACKOFF": "0.001",
        "REVIEW_OPENALEX_TIMEOUT": "20",
        "OPENALEX_API_KEY": "test-key",
    }.items():
        monkeypatch.setenv(k, v)
    yield handler
    httpd.shutdown()
    httpd.server_close()


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "review.cli", *args],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(cond: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_second_harvest_of_a_source_refuses_while_the_first_runs(ws, slow_server):
    slow_server.delay = 0.6  # 5 pages: the first harvest runs ~3 s
    first = _cli("harvest", "openalex", "--db", str(ws.path))
    try:
        _wait(lambda: len(slow_server.hits) >= 2, "the first harvest to be under way")
        with pytest.raises(ReviewError, match="already running") as e:
            harvest(ws)
        assert f"pid {first.pid}" in str(e.value)
        assert len(searches(ws)) == 1  # the second harvest wrote nothing, not even a search row
        [row] = unfinished_searches(ws)
        assert row["running"] is True  # status says "running now", not "resume"
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert first.returncode == 0, err
    [row] = searches(ws)
    assert row["status"] == "complete" and row["records_stored"] == 49
    assert count_records(ws) == 49
    assert ws.db.execute("SELECT COUNT(*) FROM locks").fetchone()[0] == 0  # released


def test_the_cli_says_so_and_exits_non_zero(ws, slow_server):
    slow_server.delay = 0.6
    first = _cli("harvest", "openalex", "--db", str(ws.path))
    try:
        _wait(lambda: len(slow_server.hits) >= 2, "the first harvest to be under way")
        r = CliRunner().invoke(cli, ["harvest", "openalex", "--db", str(ws.path)])
        assert r.exit_code != 0
        assert "already running" in r.output and "Traceback" not in r.output
        first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert count_records(ws) == 49


def test_a_crashed_harvest_does_not_block_the_next(ws, slow_server):
    slow_server.delay = 5.0
    first = _cli("harvest", "openalex", "--db", str(ws.path))
    _wait(lambda: count_records(ws) == 10, "the first page to be stored")
    first.kill()  # SIGKILL: no finally, no cleanup; its lock row and running search stay
    first.communicate()
    assert ws.db.execute("SELECT pid FROM locks").fetchone()[0] == first.pid
    [row] = unfinished_searches(ws)
    assert row["status"] == "running" and row["running"] is False  # nobody is running it
    slow_server.delay = 0.0
    [res] = harvest(ws)
    assert res.status == "complete" and res.resumed_from == "c1" and count_records(ws) == 49
    assert len(searches(ws)) == 1  # the crashed run's search was resumed, not duplicated
    assert ws.db.execute("SELECT COUNT(*) FROM locks").fetchone()[0] == 0


def test_a_reused_pid_is_not_a_live_holder(ws):
    h = locks.Holder("x", os.getpid(), __import__("socket").gethostname(), "1", None, "t")
    assert locks.is_alive(h) is False  # our pid, but we did not start at tick 1
    me = locks.Holder("x", os.getpid(), h.host, locks._process_start(os.getpid()), None, "t")
    assert locks.is_alive(me) is True


def test_status_lists_failed_searches_with_the_resume_command(ws, slow_server):
    slow_server.fail = True
    with pytest.raises(ReviewError):
        harvest(ws)
    [row] = unfinished_searches(ws)
    assert row["status"] == "failed"
    assert row["resume"] == "review harvest openalex --source OpenAlex"
    r = CliRunner().invoke(cli, ["status", "--db", str(ws.path)])
    assert r.exit_code == 0, r.output
    assert "1 unfinished" in r.output
    assert "failed" in r.output and "review harvest openalex --source OpenAlex" in r.output
    r = CliRunner().invoke(cli, ["status", "--json", "--db", str(ws.path)])
    data = json.loads(r.stdout)
    assert data["searches"]["unfinished_searches"][0]["resume"].startswith("review harvest")


IMPORT = """
import sys
from review.store import Workspace
from review.harvest.files import import_files
ws = Workspace.open(sys.argv[1])
rep = import_files(ws, [sys.argv[2]], source="Scopus")
print(rep.records_stored)
"""


def test_two_processes_importing_one_file_store_it_once(ws, tmp_path):
    src = ROOT / "tests" / "data" / "formats"
    ris = next(iter(sorted(src.rglob("*.ris"))))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", IMPORT, str(ws.path), str(ris)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    stored = sorted(int(o.strip()) for o, _ in outs)
    assert stored[0] == 0 and stored[1] > 0
    assert count_records(ws) == stored[1]
    rows = searches(ws)
    assert len(rows) == 2 and "already imported" in (rows[1]["notes"] or "")
