"""Relevance ranking in a separate process, so the screening app's UI thread never waits for the GIL.

Refitting TF-IDF + a linear SVM on 100k works holds the interpreter for seconds; in a thread that
stalled key handling (p95 55 ms, max 121 ms per record). ``RankProcess`` starts one child,
``python -m review.screen.tui.ranker``, speaking pickles over its stdin/stdout; the child opens
its own SQLite connection per request, keeps the TF-IDF matrix cached between requests
(``priority.work_features``) and returns the ranked ids as raw int64 bytes. A worker thread of the app blocks in ``rank`` (the wait releases the GIL).

The child ends on ``close`` (the app's unmount, or the start of the stopping rule's random-sample
phase: its urn's order is served, never a ranking) or by itself when its stdin closes (the app
exited or was killed). This module imports no textual, so the child stays light.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
from array import array
from pathlib import Path
from typing import BinaryIO

from ...errors import ReviewError, ScreenError


def _serve(inp: BinaryIO, out: BinaryIO) -> None:
    """The child's loop: pickled (db_path, stage, reviewer, order, seed) in, (ok, ids | message) out."""
    from ...store import Workspace
    from ..queue import ranked_ids

    while True:
        try:
            db_path, stage, reviewer, order, seed = pickle.load(inp)
        except (EOFError, OSError, pickle.UnpicklingError):  # the app is gone
            return
        try:
            ws = Workspace.open(db_path)
            try:
                reply: tuple[bool, bytes | str] = (
                    True,
                    array("q", ranked_ids(ws, stage, reviewer, order, seed)).tobytes(),
                )
            finally:
                ws.close()
        except ReviewError as e:
            reply = (False, str(e))
        except Exception as e:  # noqa: BLE001 - report, keep serving
            reply = (False, f"{type(e).__name__}: {e}")
        try:
            pickle.dump(reply, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
        except OSError:
            return


def main() -> None:
    """``python -m review.screen.tui.ranker``: serve rankings on stdin/stdout until stdin closes.

    The protocol keeps fd 1 to itself: anything else printing there (a library warning) goes to
    /dev/null, as does stderr, since the child shares the app's terminal."""
    import warnings

    warnings.simplefilter("ignore")
    try:
        os.nice(10)  # on a busy machine the app's key handling wins the CPU over a re-ranking
    except OSError:
        pass
    out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    _serve(sys.stdin.buffer, out)


class RankProcess:
    """One ranking child process, started lazily; ``rank`` is blocking (call it from a thread)."""

    def __init__(self, start: bool = False) -> None:
        """``start``: launch the child now, so its imports overlap the app's startup."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._closed = False
        if start:
            with self._lock:
                self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        """A plain subprocess, not multiprocessing: nothing re-imports the app's main module, and
        no resource tracker needs a real ``sys.stderr`` (a running Textual app replaces it)."""
        root = str(Path(__file__).resolve().parents[3])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "review.screen.tui.ranker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # a Ctrl-C in the terminal is the app's to handle
        )
        self._proc = proc
        return proc

    def rank(
        self, db_path: str | Path, stage: str, reviewer: str | None, order: str, seed: int
    ) -> list[int]:
        """Unscreened eligible work ids, best first, computed in the child process."""
        with self._lock:
            if self._closed:
                raise ScreenError("the ranking process is closed")
            proc = self._proc
            if proc is None or proc.poll() is not None:
                proc = self._start()
                if self._closed:  # close() landed meanwhile (it does not take the lock)
                    self._proc = None
                    proc.terminate()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(2)
                    raise ScreenError("the ranking process is closed")
            assert proc.stdin is not None and proc.stdout is not None
            try:
                pickle.dump((str(db_path), stage, reviewer, order, seed), proc.stdin)
                proc.stdin.flush()
                ok, payload = pickle.load(proc.stdout)  # blocking read: the GIL is released
            except (EOFError, OSError, ValueError, pickle.UnpicklingError) as e:
                # ValueError: close() shut the pipes under this call (the sample phase began)
                self._proc = None
                raise ScreenError(f"the ranking process stopped: {e!r}") from e
        if not ok:
            raise ScreenError(str(payload))
        ids = array("q")
        ids.frombytes(payload)
        return ids.tolist()

    def close(self) -> None:
        """End the child (it may be mid-ranking: nothing it does writes to the workspace)."""
        self._closed = True
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()  # a thread blocked in rank() then reads EOF
            try:
                proc.wait(2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for f in (proc.stdin, proc.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None


if __name__ == "__main__":
    main()
