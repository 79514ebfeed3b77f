"""The ranking child process closed while a ranking is in flight (the random-sample phase closes it
mid-session): ``rank`` ends with a ScreenError the app handles, never another exception type
that would end a worker (and the app), and never leaves a new child running after ``close``."""

from __future__ import annotations

import subprocess
import time

import pytest

from review.errors import ScreenError
from review.screen.tui.ranker import RankProcess


def test_rank_on_pipes_closed_under_it_is_a_screen_error(tmp_path) -> None:
    rp = RankProcess(start=True)
    try:
        proc = rp._proc
        assert proc is not None and proc.stdin is not None
        proc.stdin.close()  # what close() does to the pipes after rank() has read self._proc
        with pytest.raises(ScreenError, match="ranking process"):
            rp.rank(tmp_path / "none.db", "title-abstract", None, "relevance", 0)
    finally:
        rp.close()


class _CloseLandsAtStart(RankProcess):
    """close() landing after rank()'s closed check, before it starts the lazy child."""

    started: list[subprocess.Popen[bytes]] = []

    def _start(self) -> subprocess.Popen[bytes]:
        self.close()
        proc = super()._start()
        self.started.append(proc)
        return proc


def test_no_child_is_started_for_a_closed_ranker(tmp_path) -> None:
    rp = _CloseLandsAtStart()
    with pytest.raises(ScreenError, match="closed"):
        rp.rank(tmp_path / "none.db", "title-abstract", None, "relevance", 0)
    for proc in rp.started:  # a child spawned anyway must be gone
        deadline = time.monotonic() + 5
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is not None
