"""Prioritised screening: `review simulate` beside `asreview simulate` on the labelled sets.

    .venv/bin/python benchmarks/screening.py [--seeds 5] [--asreview-seeds N] [--sets Cohen]
                                             [--label-included] [--no-asreview]
                                             [--features tfidf|embedding|both]

Every set in ../shared/data/screening is simulated with the same priors (1 relevant + 1 irrelevant,
chosen by `review.screen.simulate.choose_priors(seed)`) and seeds for both tools. The label is
`label_abstract_screening` where a set has it (title/abstract stage), else `label_included`
(`--label-included` forces the latter, as in the ASReview figures of ../shared/FACTS.md).
ASReview (default ELAS u4) runs from its own venv, /tmp/bench-asreview (torch==2.13.0 installed
first, then `pip install asreview`); its screening order is read from the project's results.db
and scored with OUR metric functions, so both columns use the same definitions.
If it cannot run, its WSS@95 from FACTS.md (label_included, seed 42) are printed instead.
``--features embedding|both`` embeds each set once with all-MiniLM-L6-v2 (title + newline + abstract,
as the workspace cache does) and caches the vectors in EMB_CACHE/<set>.npy.
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from review.screen import simulate as sim  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "screening"
ASREVIEW = Path("/tmp/asr-venv/bin/asreview")
CACHE = Path("/tmp/asr-venv/cache")
EMB_CACHE = Path("/tmp/screening-emb")
FACTS_WSS = {  # ASReview 3.0.8, ELAS u4, 1+1 priors, seed 42, label_included (../shared/FACTS.md)
    "Bannach-Brown_2019": 41.6,
    "Cohen_2006_ADHD": 67.5,
    "Cohen_2006_Antihistamines": -1.5,
    "Cohen_2006_AtypicalAntipsychotics": 26.1,
    "Cohen_2006_BetaBlockers": 72.9,
    "Cohen_2006_CalciumChannelBlockers": 41.1,
    "Cohen_2006_Estrogens": 38.5,
    "Cohen_2006_NSAIDS": 71.3,
}


def label_column(path: Path, force_included: bool) -> str:
    with path.open(newline="", encoding="utf-8") as fh:
        cols = next(csv.reader(fh))
    if not force_included and "label_abstract_screening" in cols:
        return "label_abstract_screening"
    return "label_included"


def asreview_order(
    path: Path, label: str, priors: list[int], seed: int, timeout: float
) -> list[int]:
    """Record indices in the order ASReview screened them (priors first), cached in CACHE."""
    key = CACHE / f"{path.stem}-{label}-{seed}-{'_'.join(map(str, priors))}.json"
    if key.exists():
        return list(json.loads(key.read_text()))
    order = _run_asreview(path, label, priors, seed, timeout)
    CACHE.mkdir(parents=True, exist_ok=True)
    key.write_text(json.dumps(order))
    return order


def _run_asreview(
    path: Path, label: str, priors: list[int], seed: int, timeout: float
) -> list[int]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / path.name
        with path.open(newline="", encoding="utf-8") as src, data.open("w", newline="") as dst:
            rows = list(csv.DictReader(src))
            w = csv.writer(dst)
            w.writerow(["record_id", "title", "abstract", "label_included"])
            for i, r in enumerate(rows):
                w.writerow([i, r.get("title", ""), r.get("abstract", ""), r[label]])
        out = Path(tmp) / "sim.asreview"
        cmd = [str(ASREVIEW), "simulate", str(data), "--seed", str(seed), "-o", str(out)]
        cmd += ["--prior-idx", *map(str, priors)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
        with zipfile.ZipFile(out) as z:
            z.extract("results.db", tmp)
        con = sqlite3.connect(Path(tmp) / "results.db")
        ids = [r[0] for r in con.execute("SELECT record_id FROM results ORDER BY rowid")]
        con.close()
    prior_set = set(priors)
    return list(priors) + [i for i in ids if i not in prior_set]


def set_embeddings(path: Path) -> Any:
    """The set's sentence embeddings, one row per record, cached as EMB_CACHE/<stem>.npy."""
    import numpy as np

    dest = EMB_CACHE / f"{path.stem}.npy"
    if dest.exists():
        return np.load(dest)
    pairs, _ = sim.read_labelled_pairs(path, "label_included")
    vecs = sim.embed_texts(pairs)
    EMB_CACHE.mkdir(parents=True, exist_ok=True)
    np.save(dest, vecs)
    return vecs


def metrics(labels: list[int], order: list[int], n_priors: int) -> dict[str, float]:
    seen = set(order)
    after = [labels[i] for i in order[n_priors:]]
    after += [
        labels[i] for i in range(len(labels)) if i not in seen
    ]  # unscreened: ASReview stops early
    return {
        "wss95": sim.wss(after),
        "rrf10": sim.rrf(after),
        "loss": sim.loss(after),
        "all": sim.screened_all(after),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--asreview-seeds", type=int, default=None, help="default: --seeds")
    ap.add_argument("--sets", default="", help="only sets whose name contains this")
    ap.add_argument("--label-included", action="store_true")
    ap.add_argument("--no-asreview", action="store_true")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per ASReview run")
    ap.add_argument("--features", default="tfidf", choices=sim.FEATURE_SETS)
    ap.add_argument("--embed-weight", type=float, default=None, help="scale of embeddings (both)")
    ap.add_argument("--json-out", default="", help="write every run's metrics to this JSON file")
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"no data at {DATA}")
    files = sorted(p for p in DATA.glob("*.csv") if "index" not in p.name and args.sets in p.name)
    as_seeds = args.seeds if args.asreview_seeds is None else args.asreview_seeds
    run_as = not args.no_asreview and ASREVIEW.exists()
    if not run_as:
        print(f"ASReview not run ({ASREVIEW} missing or --no-asreview): FACTS.md WSS@95 shown.\n")
    hdr = f"{'set':<34}{'label':>6}  {'ours WSS':>8} {'RRF':>5} {'loss':>6}  {'ASR WSS':>7} {'RRF':>5} {'loss':>6}"
    print(hdr + f"  {'stop recall':>11} {'saved%':>6} {'s/run':>5}")
    if args.embed_weight is not None:
        from review.screen import priority

        priority.EMBED_WEIGHT = args.embed_weight
    print(f"features: {args.features}")
    all_ours, all_as, stops = [], [], []
    runs: list[dict[str, Any]] = []
    for f in files:
        label = label_column(f, args.label_included)
        texts, labels = sim.read_labelled_csv(f, label)
        emb = set_embeddings(f) if args.features != "tfidf" else None
        ours, theirs = [], []
        t0 = time.time()
        for seed in range(args.seeds):
            priors = sim.choose_priors(labels, 1, 1, seed)
            r = sim.simulate(
                texts, labels, seed=seed, priors=priors, features=args.features, embeddings=emb
            )
            ours.append(metrics(labels, list(r.order), r.n_priors))
            runs.append({"set": f.stem, "label": label, "seed": seed, **ours[-1]})
            stops.append((r.recall_at_stop or 0.0, 1 - (r.stopped_at or r.n_records) / r.n_records))
            if run_as and seed < as_seeds:
                try:
                    theirs.append(
                        metrics(labels, asreview_order(f, label, priors, seed, args.timeout), 2)
                    )
                except (subprocess.SubprocessError, OSError, KeyError) as e:
                    print(f"  asreview failed on {f.stem} seed {seed}: {e}", file=sys.stderr)
        per_run = (time.time() - t0) / args.seeds
        all_ours += ours
        all_as += theirs

        def m(rows: list[dict[str, float]], k: str) -> float:
            return statistics.mean(x[k] for x in rows) if rows else float("nan")

        my_stops = stops[-args.seeds :]
        rec = statistics.mean(s[0] for s in my_stops)
        saved = 100 * statistics.mean(s[1] for s in my_stops)
        as_wss = m(theirs, "wss95") if theirs else FACTS_WSS.get(f.stem, float("nan"))
        lab = "abs" if label == "label_abstract_screening" else "incl"
        print(
            f"{f.stem:<34}{lab:>6}  {m(ours, 'wss95'):8.1f} {m(ours, 'rrf10'):5.1f} {m(ours, 'loss'):6.3f}"
            f"  {as_wss:7.1f}{'*' if not theirs else ' '}{m(theirs, 'rrf10'):5.1f} {m(theirs, 'loss'):6.3f}"
            f"  {100 * rec:10.1f}% {saved:6.1f} {per_run:5.0f}",
            flush=True,
        )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(runs, indent=1))
    ok = sum(1 for s in stops if s[0] >= 0.95)
    print("-" * len(hdr))
    print(
        f"mean WSS@95 ours {statistics.mean(x['wss95'] for x in all_ours):.1f}"
        f" (RRF@10 {statistics.mean(x['rrf10'] for x in all_ours):.1f},"
        f" loss {statistics.mean(x['loss'] for x in all_ours):.3f}, {len(all_ours)} runs)"
    )
    if all_as:
        print(
            f"mean WSS@95 ASReview {statistics.mean(x['wss95'] for x in all_as):.1f}"
            f" (RRF@10 {statistics.mean(x['rrf10'] for x in all_as):.1f},"
            f" loss {statistics.mean(x['loss'] for x in all_as):.3f}, {len(all_as)} runs)"
        )
    else:
        facts = [FACTS_WSS[f.stem] for f in files if f.stem in FACTS_WSS]
        print(
            f"mean WSS@95 ASReview (FACTS.md, label_included, seed 42) {statistics.mean(facts):.1f} *"
        )
    print(
        f"stopping rule: recall >= 95% in {ok}/{len(stops)} runs ({100 * ok / len(stops):.0f}%),"
        f" mean work saved {100 * statistics.mean(s[1] for s in stops):.1f}%"
    )


if __name__ == "__main__":
    main()
