"""Parse + store rate for OpenAlex harvests (works/s), beside a plain sqlite-utils insert.

The 49 real works in tests/data/openalex/works-search-page.json are repeated with unique ids to
N works (default 100,000) and cut into API pages of 200 (JSON text, as the HTTP body arrives).
Timed, per page, exactly what a harvest does after the HTTP response:

- ours: json.loads(page) -> work_to_record() per work -> add_records() + update_search(cursor)
  in one transaction, in a real workspace (all migrations, indexes, FTS triggers).
- peer: json.loads(page) -> sqlite_utils insert_all() of one row per work (id, doi, title, year,
  raw JSON) into a plain table: the floor of "store the raw JSON in SQLite".

Goal: ours >= 10,000 works/s. Run: .venv/bin/python benchmarks/harvest.py [--n 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PAGE_FILE = ROOT / "tests" / "data" / "openalex" / "works-search-page.json"
PER_PAGE = 200
GOAL = 10_000


def page_texts(n: int) -> Iterator[str]:
    """API pages (JSON text) holding n works: the real works with unique ids and DOIs."""
    works = json.loads(PAGE_FILE.read_text("utf-8"))["results"]
    templates = []
    for w in works:
        w = dict(w)
        w["id"] = "https://openalex.org/W__N__"
        w["doi"] = (w.get("doi") or "https://doi.org/10.9999/x") + "/__N__"
        templates.append(json.dumps(w, ensure_ascii=False))
    for start in range(0, n, PER_PAGE):
        items = [
            templates[i % len(templates)].replace("__N__", str(900_000_000 + i))
            for i in range(start, min(start + PER_PAGE, n))
        ]
        meta = {"count": n, "per_page": PER_PAGE, "next_cursor": f"c{start + PER_PAGE}"}
        yield '{"meta": ' + json.dumps(meta) + ', "results": [' + ", ".join(items) + "]}"


def bench_ours(n: int, tmp: Path) -> tuple[float, float, int]:
    from review import protocol
    from review.harvest.openalex import work_to_record
    from review.store import init
    from review.store.records import add_records, finish_search, start_search, update_search

    ws = init(
        tmp / "ours.db",
        protocol.load(ROOT / "protocols" / "sadc-smart-cities.toml"),
    )
    sid = start_search(ws, source="OpenAlex", arm="databases", kind="openalex", query="bench")
    spent, cpu, stored = 0.0, 0.0, 0
    for text in page_texts(n):
        t0, c0 = time.perf_counter(), time.process_time()
        page = json.loads(text)
        records = [work_to_record(w) for w in page["results"]]
        with ws.transaction():
            stored += len(add_records(ws, sid, records))
            update_search(ws, sid, cursor=page["meta"]["next_cursor"])
        spent += time.perf_counter() - t0
        cpu += time.process_time() - c0
    finish_search(ws, sid, records_found=n, records_stored=stored)
    ws.close()
    return spent, cpu, stored


def bench_peer(n: int, tmp: Path) -> tuple[float, float, int]:
    import sqlite_utils

    db = sqlite_utils.Database(tmp / "peer.db")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    spent, cpu, stored = 0.0, 0.0, 0
    for text in page_texts(n):
        t0, c0 = time.perf_counter(), time.process_time()
        page = json.loads(text)
        rows = [
            {
                "id": w["id"],
                "doi": w.get("doi"),
                "title": w.get("title"),
                "year": w.get("publication_year"),
                "raw": json.dumps(w, ensure_ascii=False),
            }
            for w in page["results"]
        ]
        db["works"].insert_all(rows, pk="id")  # type: ignore[union-attr]
        stored += len(rows)
        spent += time.perf_counter() - t0
        cpu += time.process_time() - c0
    db.close()
    return spent, cpu, stored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="works to parse and store")
    ap.add_argument("--profile", action="store_true", help="cProfile our path (top 25)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="review-bench-") as d:
        tmp = Path(d)
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(bench_ours, args.n, tmp)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
            return
        results = {}
        results["review (parse + map + add_records)"] = bench_ours(args.n, tmp)
        results["plain sqlite-utils insert_all"] = bench_peer(args.n, tmp)
    print(f"works: {args.n:,} in pages of {PER_PAGE} (real OpenAlex works, unique ids)")
    print(f"{'':36} {'stored':>8} {'wall s':>8} {'works/s':>9} {'cpu s':>8} {'works/s cpu':>12}")
    for name, (wall, cpu, stored) in results.items():
        print(
            f"{name:36} {stored:8,} {wall:8.1f} {stored / wall:9,.0f} {cpu:8.1f} {stored / cpu:12,.0f}"
        )
    for name, (_wall, cpu, stored) in results.items():
        if name.startswith("review"):
            verdict = "meets" if stored / cpu >= GOAL else "BELOW"
            print(f"goal >= {GOAL:,} works/s (CPU time, one core): {name}: {verdict}")


if __name__ == "__main__":
    main()
