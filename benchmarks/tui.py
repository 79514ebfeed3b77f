"""Screening app speed at 100k works: startup and next-record latency (targets: < 2 s, < 50 ms).

Builds (once, cached under --dir) a workspace of N works from the ASReview screening CSVs in
../shared/data/screening, repeated until N, inserted with ``review.store.records.add_records``.
Then, headless (Textual ``run_test``):
  - startup: ``ScreenApp(...)`` constructed until the first record is on screen;
  - next record: pressing include -> decision committed -> next record rendered, timed inside the
    app (``action_include``), over --decisions records; plus the library path alone
    (decide + ScreenQueue.next_work + get_work).

    .venv/bin/python benchmarks/tui.py [--works 100000] [--decisions 200] [--order oldest]

There is no peer figure to print beside ours: ASReview LAB and Rayyan are browser apps and
FACTS.md measures neither's record latency; FACTS.md does give Textual's DataTable with 100k rows
(~12 s to first paint), which is why the app never loads the table.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
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


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[int(0.95 * (len(xs) - 1))]
    return f"median {statistics.median(xs) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms   max {xs[-1] * 1000:6.1f} ms"


async def measure_app(db: Path, decisions: int, order: str) -> tuple[float, float, list[float]]:
    from review.screen.tui.app import ScreenApp
    from review.screen.tui.widgets import RecordView

    t0 = time.perf_counter()
    app = ScreenApp(db, reviewer="bench", order=order)
    t_init = time.perf_counter() - t0
    lat: list[float] = []
    async with app.run_test(size=(150, 50)) as pilot:
        while app.current is None or not app.query_one(RecordView).header_text.plain:
            await pilot.pause(0.001)
        t_first = time.perf_counter() - t0
        for _ in range(decisions):
            t = time.perf_counter()
            app.action_include()  # commit, pick the next record, render it
            lat.append(time.perf_counter() - t)
            await pilot.pause(0)
    return t_init, t_first, lat


def measure_library(db: Path, decisions: int) -> list[float]:
    from review.screen import actions
    from review.screen.queue import ScreenQueue
    from review.store import Workspace

    ws = Workspace.open(db)
    q = ScreenQueue.build(ws, "title-abstract", "bench-lib", order="oldest")
    lat = []
    wid = q.next_work(ws)
    for _ in range(decisions):
        t = time.perf_counter()
        assert wid is not None
        actions.decide(ws, wid, "title-abstract", "bench-lib", "exclude", "E1")
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
    ap.add_argument("--order", default="oldest", choices=("oldest", "random", "relevance"))
    ap.add_argument("--dir", type=Path, default=Path("/tmp/review-bench-tui"))
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    db = args.dir / f"works-{args.works}.db"
    if not db.exists():
        print(f"building {args.works} works ...", flush=True)
        print(f"  built in {build(db, args.works):.1f} s")
    lib = measure_library(db, args.decisions)
    t_init, t_first, lat = asyncio.run(measure_app(db, args.decisions, args.order))
    print(
        f"\nreview screen, {args.works} works, order={args.order} (targets: startup < 2 s, next < 50 ms)"
    )
    print(f"  app constructed          {t_init:6.2f} s")
    print(f"  first record on screen   {t_first:6.2f} s")
    print(f"  next record (app, {len(lat)})   {ms(lat)}")
    print(f"  next record (library)    {ms(lib)}")
    print(
        "  peer: none comparable (ASReview LAB / Rayyan are browser apps; FACTS.md has no figure);"
    )
    print("        FACTS.md: Textual DataTable with 100k rows ~12 s to first paint")


if __name__ == "__main__":
    main()
