"""Deduplication benchmark: our `review dedup` beside bib-dedupe on the labelled sets.

    .venv/bin/python benchmarks/dedup.py [--sets stroke,haematology] [--synthetic 100000] [--no-peer]
        [--lodo] [--errors]

For each set in ../shared/data/dedup (records_pre_merged.csv + merged_record_ids.csv gold; the
EndNote XML sets with their Duplicate captions) it imports the records into a fresh workspace, runs
our dedup and bib-dedupe (its own venv: /tmp/bench-bibdedupe, `pip install bib-dedupe`; it needs no
torch) on the same records and prints pairwise sensitivity, false positives, specificity, F1 and
wall time. EndNote sets carry no groups, only a flag per record, so they are scored per record.

Beyond the Rathbone sets (``benchmarks/dedup_sets.py``): the trap sets in tests/data/dedup_traps
(supplement DOI, editorials, book ISBN, preprints, translated titles), bib-dedupe's special cases,
CoLRev's dedupe test and one EndNote library exported as RIS, MEDLINE and EndNote XML (read by
our importer). ``--lodo`` checks that no threshold was tuned to one file: for each set it picks
the title threshold best on all the OTHER sets and reports the held-out result.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from review.dedup import engine  # noqa: E402
from review.dedup.labelled import (  # noqa: E402
    csv_records,
    endnote_records,
    flag_metrics,
    gold_pairs,
    group_pairs,
    pair_metrics,
)
from review.models import Record  # noqa: E402
from review.store import init  # noqa: E402
from review.store.records import add_records, finish_search, start_search  # noqa: E402

SHARED = Path(os.environ.get("REVIEW_SHARED_DATA", ROOT.parent / "shared" / "data")) / "dedup"
PEER_PY = Path("/tmp/bench-bibdedupe/bin/python")
CSV_SETS = ("cytology_screening", "haematology", "respiratory", "stroke")
from dedup_sets import EXPORT_SETS, TRAP_SETS, LabelledSet  # noqa: E402
from dedup_sets import load as load_set  # noqa: E402

XML_SETS = ("copper", "tafenoquine")
# /work/shared/FACTS.md: bib-dedupe 0.11, pairwise sensitivity and false positive pairs, 4-7 s each
PEER_FACTS = {
    "cytology_screening": (0.985, 0),
    "haematology": (0.828, 2),
    "respiratory": (0.925, 0),
    "stroke": (0.996, 0),
}

PEER_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import bib_dedupe.bib_dedupe as bd
df = pd.read_csv(sys.argv[1], dtype=str).fillna("")
t = time.perf_counter()
prep = bd.prep(df, verbosity_level=0)
blocked = bd.block(prep, verbosity_level=0)
matched = bd.match(blocked, verbosity_level=0)
groups = bd.cluster(matched, verbosity_level=0)
print(json.dumps({"seconds": time.perf_counter() - t, "groups": [sorted(g) for g in groups]}))
"""


def ours(
    records: list[Record], tmp: Path, threshold: float | None = None
) -> tuple[list[list[str]], float]:
    """Import into a fresh workspace, run dedup, return groups of source_record_ids and seconds."""
    ws = init(tmp / f"bench-{time.time_ns()}.db")
    sid = start_search(ws, source="benchmark", arm="databases", kind="file")
    add_records(ws, sid, records)
    finish_search(ws, sid, records_found=len(records), records_stored=len(records))
    t = time.perf_counter()
    if threshold:
        engine.run(ws, threshold=threshold)
    else:
        engine.run(ws)
    seconds = time.perf_counter() - t
    groups: dict[int, list[str]] = {}
    for wid, srid in ws.db.execute("SELECT work_id, source_record_id FROM records"):
        groups.setdefault(wid, []).append(srid)
    ws.close()
    return [g for g in groups.values() if len(g) > 1], seconds


def peer(records: list[Record], tmp: Path) -> tuple[list[list[str]], float] | None:
    if not PEER_PY.exists():
        return None
    path = tmp / f"peer-{time.time_ns()}.csv"
    cols = [
        "ID",
        "ENTRYTYPE",
        "title",
        "author",
        "year",
        "journal",
        "booktitle",
        "volume",
        "number",
        "pages",
        "doi",
        "isbn",
        "abstract",
    ]
    types = {"article", "inproceedings", "book", "incollection", "misc", "phdthesis", "techreport"}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, cols)
        w.writeheader()
        for r in records:
            w.writerow(
                {
                    "ID": r.source_record_id,
                    "ENTRYTYPE": (r.record_type or "").lower()
                    if (r.record_type or "").lower() in types
                    else "article",
                    "title": r.title or "",
                    "author": " and ".join(r.authors),
                    "year": r.year or "",
                    "journal": r.venue or "" if (r.record_type or "") != "incollection" else "",
                    "booktitle": r.venue or "" if (r.record_type or "") == "incollection" else "",
                    "isbn": r.isbn or "",
                    "abstract": r.abstract or "",
                    "volume": r.volume or "",
                    "number": r.issue or "",
                    "pages": r.pages or "",
                    "doi": r.doi or "",
                }
            )
    proc = subprocess.run(
        [str(PEER_PY), "-c", PEER_SCRIPT, str(path)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        print(f"  bib-dedupe failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["groups"], out["seconds"]


def fmt(name: str, m: dict[str, float], seconds: float | None) -> str:
    secs = f"{seconds:6.2f} s" if seconds is not None else "     - "
    return (
        f"  {name:<11} sens {m['sensitivity']:.3f}  FP {int(m['fp']):>3}  FN {int(m['fn']):>4}  "
        f"spec {m['specificity']:.6f}  F1 {m['f1']:.3f}  {secs}"
    )


def bench_csv(
    name: str, tmp: Path, use_peer: bool, threshold: float | None, show_errors: bool
) -> None:
    folder = SHARED / name
    records = csv_records(folder / "records_pre_merged.csv")
    gold = gold_pairs(folder / "merged_record_ids.csv")
    n = len(records)
    print(f"{name}: {n} records, {len(gold)} gold pairs")
    groups, secs = ours(records, tmp, threshold)
    pred = group_pairs(groups)
    print(fmt("review", pair_metrics(pred, gold, n), secs))
    if show_errors:
        by_id = {r.source_record_id: r for r in records}
        for label, pairs in (("FP", pred - gold), ("FN", gold - pred)):
            for p in sorted(pairs, key=sorted)[:25]:
                a, b = (by_id[i] for i in sorted(p))
                print(f"    {label} {a.source_record_id}/{b.source_record_id}")
                for r in (a, b):
                    au = "; ".join(r.authors[:3])
                    print(
                        f"       {r.year} | {(r.title or '')[:95]} | {au[:40]} | {r.pages} v{r.volume} | {r.venue}"
                    )
    result = peer(records, tmp) if use_peer else None
    if result is not None:
        pg, ps = result
        print(fmt("bib-dedupe", pair_metrics(group_pairs(pg), gold, n), ps))
    else:
        sens, fp = PEER_FACTS[name]
        print(
            f"  bib-dedupe  sens {sens:.3f}  FP {fp:>3}  (not run: figures from /work/shared/FACTS.md, 4-7 s)"
        )


def bench_xml(name: str, tmp: Path, use_peer: bool, threshold: float | None) -> None:
    records, flagged = endnote_records(SHARED / "endnote-xml" / f"{name}.xml")
    n = len(records)
    print(f"{name} (EndNote XML, per-record flags): {n} records, {len(flagged)} flagged Duplicate")
    groups, secs = ours(records, tmp, threshold)
    print(fmt("review", flag_metrics({i for g in groups for i in g}, flagged, n), secs))
    result = peer(records, tmp) if use_peer else None
    if result is not None:
        pg, ps = result
        print(fmt("bib-dedupe", flag_metrics({i for g in pg for i in g}, flagged, n), ps))
    else:
        print("  bib-dedupe  not run (no published figure for this set)")


def bench_set(
    ls: LabelledSet, tmp: Path, use_peer: bool, threshold: float | None, show_errors: bool
) -> dict[str, object]:
    """Pairwise sensitivity and false positive pairs, ours beside bib-dedupe's, on one set.
    Pairs in ``ls.either`` (merge or queue both fine) are left out of both counts."""
    n = len(ls.records)
    gold = ls.gold - ls.either
    print(
        f"{ls.name}: {n} records, {len(gold)} gold pairs"
        + (f", {len(ls.either)} either-way" if ls.either else "")
    )
    groups, secs = ours(ls.records, tmp, threshold)
    pred = group_pairs(groups) - ls.either
    m = pair_metrics(pred, gold, n)
    print(fmt("review", m, secs))
    if show_errors:
        by_id = {r.source_record_id: r for r in ls.records}
        for label, pairs in (("FP", pred - gold), ("FN", gold - pred)):
            for p in sorted(pairs, key=sorted)[:10]:
                a, b = (by_id[i] for i in sorted(p))
                print(f"    {label} {(a.title or '')[:60]} | {(b.title or '')[:60]}")
    out: dict[str, object] = {"set": ls.name, "ours": m, "secs": secs}
    result = peer(ls.records, tmp) if use_peer else None
    if result is not None:
        pg, ps = result
        pm = pair_metrics(group_pairs(pg) - ls.either, gold, n)
        print(fmt("bib-dedupe", pm, ps))
        out.update(peer=pm, peer_secs=ps)
    return out


def lodo(names: list[str], tmp: Path) -> None:
    """Leave one dataset out: the threshold best on the other sets, scored on the held-out one."""
    grid = (0.85, 0.88, 0.9, 0.92, 0.95, 0.97)
    sets = {n: _any_set(n) for n in names}
    table: dict[tuple[str, float], dict[str, float]] = {}
    for name, ls in sets.items():
        for thr in grid:
            groups, _ = ours(ls.records, tmp, thr)
            table[name, thr] = pair_metrics(
                group_pairs(groups) - ls.either, ls.gold - ls.either, len(ls.records)
            )
    print("leave-one-dataset-out (threshold chosen on the other sets: max TP - 10 x FP)")
    for name in names:
        others = [o for o in names if o != name]

        def value(thr: float, others: list[str] = others) -> float:
            return sum(table[o, thr]["tp"] - 10 * table[o, thr]["fp"] for o in others)

        best = max(grid, key=lambda t: (value(t), -abs(t - 0.9)))
        m = table[name, best]
        print(
            f"  {name:<20} chosen {best:.2f}  held-out sens {m['sensitivity']:.3f}  FP {int(m['fp'])}"
        )


def _any_set(name: str) -> LabelledSet:
    if name in CSV_SETS:
        folder = SHARED / name
        return LabelledSet(
            name,
            csv_records(folder / "records_pre_merged.csv"),
            gold_pairs(folder / "merged_record_ids.csv"),
        )
    return load_set(name, SHARED.parent)


def synthetic(n: int, seed: int = 7) -> list[Record]:
    """n records by perturbing the real ones: new works mix two real titles; ~30% are noisy copies."""
    rng = random.Random(seed)
    base: list[Record] = []
    for name in CSV_SETS:
        base.extend(csv_records(SHARED / name / "records_pre_merged.csv"))
    out: list[Record] = []
    while len(out) < n:
        if out and rng.random() < 0.3:
            r = rng.choice(out)
            title = r.title or ""
            roll = rng.random()
            if roll < 0.3:
                title = title.upper()
            elif roll < 0.6 and len(title) > 10:
                k = rng.randrange(len(title))
                title = title[:k] + title[k + 1 :]
            else:
                title = f"[{title}]. [Chinese]"
            authors = tuple(a.split(",")[0] + ", X." for a in r.authors)
            out.append(replace(r, title=title, authors=authors, source_record_id=f"s{len(out)}"))
        else:
            a, b = rng.choice(base), rng.choice(base)
            ta, tb = (a.title or "").split(), (b.title or "").split()
            title = " ".join(ta[: len(ta) // 2] + tb[len(tb) // 2 :])
            page = rng.randrange(1, 3000)
            out.append(
                replace(
                    a,
                    title=title,
                    authors=b.authors,
                    year=rng.randrange(1980, 2025),
                    pages=f"{page}-{page + rng.randrange(1, 20)}",
                    volume=str(rng.randrange(1, 200)),
                    source_record_id=f"s{len(out)}",
                )
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sets", default=",".join(CSV_SETS + XML_SETS + TRAP_SETS + EXPORT_SETS))
    ap.add_argument("--lodo", action="store_true", help="leave-one-dataset-out threshold check")
    ap.add_argument("--synthetic", type=int, default=100_000, help="0 to skip")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--errors", action="store_true", help="print false positives and negatives")
    args = ap.parse_args()
    if not SHARED.exists():
        sys.exit(f"shared data not found: {SHARED}")
    if not args.no_peer and not PEER_PY.exists():
        print(
            f"bib-dedupe venv not found at {PEER_PY}: printing its figures from /work/shared/FACTS.md"
        )
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name in [s for s in args.sets.split(",") if s]:
            if name in CSV_SETS:
                bench_csv(name, tmp, not args.no_peer, args.threshold, args.errors)
            elif name in XML_SETS:
                bench_xml(name, tmp, not args.no_peer, args.threshold)
            else:
                bench_set(
                    load_set(name, SHARED.parent),
                    tmp,
                    not args.no_peer,
                    args.threshold,
                    args.errors,
                )
        if args.lodo:
            lodo([s for s in args.sets.split(",") if s and s not in XML_SETS], tmp)
        if args.synthetic:
            bench_synthetic(args.synthetic, tmp)


def bench_synthetic(n: int, tmp: Path) -> None:
    """Time dedup of n perturbed records: wall and CPU seconds, peak memory, machine load."""
    recs = synthetic(n)
    t, cpu = time.perf_counter(), time.process_time()
    ws = init(tmp / "synthetic.db")
    sid = start_search(ws, source="synthetic", arm="databases", kind="file")
    add_records(ws, sid, recs)
    load_wall, load_cpu = time.perf_counter() - t, time.process_time() - cpu
    before = os.getloadavg()[0]
    t, cpu = time.perf_counter(), time.process_time()
    res = engine.run(ws)
    secs, cpu = time.perf_counter() - t, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(
        f"synthetic: {len(recs)} records, {os.cpu_count()} CPUs, load average {before:.1f}"
        f" -> {os.getloadavg()[0]:.1f}\n"
        f"  import   wall {load_wall:6.1f} s  CPU {load_cpu:6.1f} s\n"
        f"  dedup    wall {secs:6.1f} s  CPU {cpu:6.1f} s  (goal < 60 s on 2 cores)\n"
        f"  peak memory (max RSS of this process) {rss:.0f} MB  (goal < 2 GB)\n"
        f"  {res['works_absorbed']} works absorbed, {res['candidates_new']} pairs queued"
    )


if __name__ == "__main__":
    main()
