"""Screening app speed at 100k works: startup and next-record latency (targets: < 2 s, < 50 ms).

Builds (once, cached under --dir) a workspace of N works from the ASReview screening CSVs in
../shared/data/screening, repeated until N, inserted with ``review.store.records.add_records``.
Then, headless (Textual ``run_test``):
  - startup: ``ScreenApp(...)`` constructed until the first record is on screen;
  - next record: pressing include -> decision committed -> next record rendered, timed inside the
    app (``action_include``), over --decisions records, with a per-step breakdown (decide = the
    write, next = picking the next work, render = reading it and filling the widgets) and the UI
    thread's CPU time per key (wall-clock figures on a shared 2-core machine include waiting for
    a core: the CPU line says what the app itself costs); plus the library path alone
    (decide + ScreenQueue.next_work + get_work).

  - relevance order: the same, then again once the first ranking (TF-IDF + SVM, in the ranking
    child process) is applied, with re-rankings every 10 decisions running meanwhile;
  - stopping_status on 10k decisions.

    .venv/bin/python benchmarks/tui.py [--works 100000] [--decisions 200] [--order both]

There is no peer figure to print beside ours: ASReview LAB and Rayyan are browser apps and
FACTS.md measures neither's record latency; FACTS.md does give Textual's DataTable with 100k rows
(~12 s to first paint), which is why the app never loads the table.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "screening"
PROTOCOL = ROOT / "tests" / "data" / "screen" / "depression.toml"


def build(db: Path, n: int) -> float:
    from review import protocol
    from review.models import Record
    from review.store import init
    from review.store.records import add_records, finish_search, start_search

    rows: list[dict[str, str]] = []
    for f in sorted(SHARED.glob("*.csv")):
        if f.name.startswith("asreview"):
            continue
        with f.open(encoding="utf-8") as fh:
            rows.extend(csv.DictReader(fh))
    if not rows:
        sys.exit(f"no screening CSVs under {SHARED}")
    t = time.perf_counter()
    ws = init(db, protocol.load(PROTOCOL))
    sid = start_search(ws, source="ASReview datasets (repeated)", arm="databases", kind="file")

    def records():
        for i in range(n):
            r = rows[i % len(rows)]
            year = (r.get("year") or "").strip()
            yield Record(
                title=r.get("title") or None,
                abstract=r.get("abstract") or None,
                authors=tuple(a.strip() for a in (r.get("authors") or "").split(";") if a.strip()),
                year=int(float(year)) if year[:4].isdigit() else None,
                source_record_id=str(i),
            )

    ids = add_records(ws, sid, records())
    finish_search(ws, sid, records_found=n, records_stored=len(ids))
    ws.close()
    return time.perf_counter() - t


def pct(xs: list[float]) -> tuple[float, float, float]:
    """(median, p95, max) in ms."""
    xs = sorted(xs)
    return (
        statistics.median(xs) * 1000,
        xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))] * 1000,
        xs[-1] * 1000,
    )


def ms(xs: list[float]) -> str:
    med, p95, mx = pct(xs)
    return f"median {med:6.1f} ms   p95 {p95:6.1f} ms   max {mx:6.1f} ms   (n={len(xs)})"


async def measure_app(
    db: Path, decisions: int, order: str, reviewer: str, rank_wait: float
) -> dict[str, object]:
    """Startup, then ``decisions`` records decided with no pause (4 includes : 1 exclude E1, so the
    relevance model has both classes), then -- relevance order -- the same again once the first
    model ranking is applied, 0.1 s between keys, re-ranking every 10 decisions in the child."""
    from review.screen.tui.app import ScreenApp
    from review.screen.tui.widgets import RecordView

    t0 = time.perf_counter()
    app = ScreenApp(db, reviewer=reviewer, order=order)
    t_init = time.perf_counter() - t0
    out: dict[str, object] = {"init": t_init}

    # per-step breakdown, so a regression names its step: decide = the write (commit, or queue
    # while another process writes), next = picking the next work (show_frontier without show),
    # render = reading the work in hand and filling the widgets (show)
    acc = {"decide": 0.0, "frontier": 0.0, "render": 0.0}
    steps: dict[str, list[float]] = {"decide": [], "next": [], "render": [], "UI thread CPU": []}

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*a, **kw):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                acc[name] += time.perf_counter() - t

        return wrapper

    app.write = timed("decide", app.write)  # type: ignore[method-assign]
    app.show_frontier = timed("frontier", app.show_frontier)  # type: ignore[method-assign]
    app.show = timed("render", app.show)  # type: ignore[method-assign]

    def decide(i: int) -> float:
        for k in acc:
            acc[k] = 0.0
        t, c = time.perf_counter(), time.thread_time()
        if i % 5 == 4:
            app._decide("exclude", "E1")  # what the reason picker calls
        else:
            app.action_include()  # commit, pick the next record, render it
        total = time.perf_counter() - t
        # CPU of the UI thread for the key: what the app itself costs, whatever the load
        steps["UI thread CPU"].append(time.thread_time() - c)
        steps["decide"].append(acc["decide"])
        steps["next"].append(max(acc["frontier"] - acc["render"], 0.0))
        steps["render"].append(acc["render"])
        return total

    async with app.run_test(size=(150, 50)) as pilot:
        while app.current is None or not app.query_one(RecordView).header_text.plain:
            await pilot.pause(0.001)
        out["first"] = time.perf_counter() - t0
        cold: list[float] = []
        for i in range(decisions):
            cold.append(decide(i))
            await pilot.pause(0)
        out["cold"] = cold
        out["steps"] = {k: list(v) for k, v in steps.items()}
        for v in steps.values():
            v.clear()
        if order == "relevance":
            t = time.perf_counter()
            # ranking 1 is at startup, before any decision: a seeded shuffle; ranking 2 is the
            # first model (TF-IDF of every work + SVM, in the child)
            while app.ranked < 2 and time.perf_counter() - t < rank_wait:
                await pilot.pause(0.05)
            out["first_rank"] = time.perf_counter() - t0 if app.ranked >= 2 else None
            before = app.ranked
            warm: list[float] = []
            for i in range(decisions):
                warm.append(decide(i))
                await pilot.pause(0.1)  # a very fast reviewer: 10 records a second
            out["warm"] = warm
            out["steps_warm"] = {k: list(v) for k, v in steps.items()}
            out["reranks"] = app.ranked - before
    return out


def measure_stopping(db: Path, n_decisions: int) -> list[float]:
    """stopping_status for a reviewer with n_decisions (added once to the cached workspace)."""
    from review.screen.stopping import stopping_status
    from review.store import Workspace
    from review.store.decisions import record_decision

    ws = Workspace.open(db)
    who = f"bench-stop-{n_decisions}"
    have = ws.db.execute("SELECT COUNT(*) FROM decisions WHERE reviewer = ?", [who]).fetchone()[0]
    if have < n_decisions:
        ids = [r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 1 ORDER BY id")]
        with ws.transaction():
            for i, w in enumerate(ids[have:n_decisions], start=have):
                rel = i % 40 == 0 if i > n_decisions // 2 else i % 8 == 0
                record_decision(
                    ws, work_id=w, stage="title-abstract", reviewer=who,
                    decision="include" if rel else "exclude", reason=None if rel else "E1",
                )  # fmt: skip
    lat = []
    for _ in range(7):
        t = time.perf_counter()
        stopping_status(ws, "title-abstract", reviewer=who, log=False)
        lat.append(time.perf_counter() - t)
    ws.close()
    return lat


def measure_library(db: Path, decisions: int) -> list[float]:
    from review.screen import actions
    from review.screen.queue import ScreenQueue
    from review.store import Workspace

    ws = Workspace.open(db)
    who = f"bench-lib-{os.getpid()}"
    q = ScreenQueue.build(ws, "title-abstract", who, order="oldest")
    lat = []
    wid = q.next_work(ws)
    for _ in range(decisions):
        t = time.perf_counter()
        assert wid is not None
        actions.decide(ws, wid, "title-abstract", who, "exclude", "E1")
        wid = q.next_work(ws)
        actions.get_work(ws, wid)  # type: ignore[arg-type]
        lat.append(time.perf_counter() - t)
    ws.close()
    return lat


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--works", type=int, default=100_000)
    ap.add_argument("--decisions", type=int, default=200)
    ap.add_argument("--order", default="both", choices=("both", "oldest", "random", "relevance"))
    ap.add_argument("--rank-wait", type=float, default=600.0, help="max s for the first ranking")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/review-bench-tui"))
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    db = args.dir / f"works-{args.works}.db"
    if not db.exists():
        print(f"building {args.works} works ...", flush=True)
        print(f"  built in {build(db, args.works):.1f} s")
    print(f"load average: {os.getloadavg()[0]:.2f} (2 shared cores)", flush=True)
    t = time.perf_counter()
    from review.screen.stopping import stopping_status  # noqa: F401

    t_imp = time.perf_counter() - t
    stop = measure_stopping(db, 10_000)
    lib = measure_library(db, args.decisions)
    orders = ("oldest", "relevance") if args.order == "both" else (args.order,)
    print(f"\nreview screen, {args.works} works (targets: startup < 2 s, next record < 50 ms)")
    print(f"  next record (library)          {ms(lib)}")
    print(f"  stopping_status, 10k decisions {ms(stop)}   (import {t_imp * 1000:.0f} ms)")
    for order in orders:
        reviewer = f"bench-{order}-{os.getpid()}"  # fresh: no earlier run's decisions
        r = asyncio.run(measure_app(db, args.decisions, order, reviewer, args.rank_wait))
        print(f"  order={order}")
        print(f"    app constructed              {r['init']:6.2f} s")
        print(f"    first record on screen       {r['first']:6.2f} s")
        print(f"    next record (app)            {ms(r['cold'])}")  # type: ignore[arg-type]
        for step, xs in r["steps"].items():  # type: ignore[attr-defined]
            print(f"      {step:<27}{ms(xs)}")
        if order == "relevance":
            fr = r["first_rank"]
            print(
                "    first model ranking          "
                + (f"{fr:6.1f} s after start" if fr else f"not within {args.rank_wait:.0f} s")
            )
            print(
                f"    next record, ranked ({r['reranks']} re-rankings applied meanwhile)"
                f"\n                                 {ms(r['warm'])}"  # type: ignore[arg-type]
            )
            for step, xs in r["steps_warm"].items():  # type: ignore[attr-defined]
                print(f"      {step:<27}{ms(xs)}")
    print(f"  load average at the end: {os.getloadavg()[0]:.2f}")
    print(
        "  peer: none comparable (ASReview LAB / Rayyan are browser apps; FACTS.md has no figure);"
    )
    print("        FACTS.md: Textual DataTable with 100k rows ~12 s to first paint")


if __name__ == "__main__":
    main()
