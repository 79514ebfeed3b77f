"""Prioritised screening and stopping: `review simulate` beside the real `asreview simulate` 3.0.8.

    .venv/bin/python benchmarks/screening.py [--models u4,ensemble] [--seeds 1,2,3]
        [--labels included,abstract] [--sets Cohen] [--no-asreview] [--lodo] [--json-out F]
        [--runs DIR] [--cached-only] [--asreview-cached-only]

Every set in ../shared/data/screening is simulated with the same priors (1 relevant + 1 irrelevant,
chosen by `review.screen.simulate.choose_priors(seed)`) and seeds for every model and for ASReview,
on both label columns: `label_included` (final inclusion, every set) and `label_abstract_screening`
(title/abstract decision, the Cohen sets). ASReview 3.0.8 (default ELAS u4) runs from its own venv
/tmp/asr-venv (torch==2.13.0 installed first, then `pip install asreview==3.0.8`), niced, one run at
a time; its screening order is read from the project's results.db and scored with OUR metric
functions, so every column uses the same definitions (records ASReview left unscreened after the
last relevant one count as screened last). Runs are cached (ours in RUNS/<model>.jsonl, `--runs`
to pick another directory, e.g. an empty one to re-run everything; ASReview in CACHE/*.json), so a
re-run only computes what is missing.

Prints per set × label: WSS@95 of each model and of ASReview, RRF@10 and loss of the first model;
then means, u4 parity (|our u4 - ASReview|), the first model minus ASReview per set, the
leave-one-dataset-out choice among the models (``--lodo``), and the stopping rules (recall at stop,
share of runs reaching the target, work saved) on the first model's runs.
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

from review.screen import priority, stoprules  # noqa: E402
from review.screen import simulate as sim  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "screening"
ASREVIEW = Path("/tmp/asr-venv/bin/asreview")
CACHE = Path("/tmp/asr-venv/cache")
RUNS = Path("/tmp/hs")
LABELS = {"included": "label_included", "abstract": "label_abstract_screening"}


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
        cmd = ["nice", "-n", "5", str(ASREVIEW), "simulate", str(data), "--seed", str(seed)]
        cmd += ["-o", str(out), "--prior-idx", *map(str, priors)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
        with zipfile.ZipFile(out) as z:
            z.extract("results.db", tmp)
        con = sqlite3.connect(Path(tmp) / "results.db")
        ids = [r[0] for r in con.execute("SELECT record_id FROM results ORDER BY rowid")]
        con.close()
    prior_set = set(priors)
    return list(priors) + [i for i in ids if i not in prior_set]


def complete(order: list[int], n: int) -> list[int]:
    """ASReview stops at the last relevant record: the rest count as screened after it."""
    seen = set(order)
    return order + [i for i in range(n) if i not in seen]


def metrics(labels: list[int], order: list[int], n_priors: int) -> dict[str, float]:
    after = [labels[i] for i in complete(order, len(labels))[n_priors:]]
    return {
        "wss95": sim.wss(after),
        "rrf10": sim.rrf(after),
        "loss": sim.loss(after),
        "screened_all": sim.screened_all(after),
    }


def our_runs(
    model: str, path: Path, label: str, seeds: list[int], cached_only: bool = False
) -> list[dict[str, Any]]:
    """Our simulation runs (cached in RUNS/<model>.jsonl, one JSON object a line)."""
    cache = RUNS / f"{model}.jsonl"
    have: dict[tuple[str, str, int], dict[str, Any]] = {}
    if cache.exists():
        for line in cache.read_text().splitlines():
            d = json.loads(line)
            have[(d["set"], d["label"], d["seed"])] = d
    rec = priority.recipe(model)
    out = []
    pairs: Any = None
    for seed in seeds:
        if (path.stem, label, seed) not in have:
            if cached_only:
                continue
            if pairs is None:
                pairs, labels = sim.read_labelled_pairs(path, label)
                emb = sim.embed_texts(pairs) if rec.features != "tfidf" else None
                texts = [rec.text(t, a) for t, a in pairs]
            priors = sim.choose_priors(labels, 1, 1, seed)
            t0, c0 = time.time(), time.process_time()
            r = sim.simulate(texts, labels, seed=seed, priors=priors, model=model, embeddings=emb)
            d = r.as_dict(with_order=True)
            d.update(set=path.stem, label=label, seed=seed)
            d.update(wall=round(time.time() - t0, 1), cpu=round(time.process_time() - c0, 1))
            RUNS.mkdir(parents=True, exist_ok=True)
            with cache.open("a") as fh:
                fh.write(json.dumps(d) + "\n")
            have[(path.stem, label, seed)] = d
        out.append(have[(path.stem, label, seed)])
    return out


def mean(xs: list[float]) -> float:
    return statistics.mean(xs) if xs else float("nan")


def lodo(
    table: dict[str, dict[str, dict[int, float]]], models: list[str], base: str = "asreview"
) -> list[dict[str, Any]]:
    """Leave one data set out. For each held-out set, choose among ``models`` on the OTHER sets
    (both label columns): the best mean gain in WSS@95 over ``base`` (ASReview, which our u4
    matches) among the models with no other set x label more than 3 points below ``base``
    (the issue's bar; all models if none qualifies). Report the chosen model's gain on the
    held-out set, per label column: the estimate of how the choice does on a review not seen."""

    def gains(m: str) -> dict[str, float]:
        out = {}
        for k, vs in table[m].items():
            both = set(vs) & set(table[base].get(k, {}))
            if both:
                out[k] = mean([vs[s] - table[base][k][s] for s in both])
        return out

    g = {m: gains(m) for m in models}
    sets = sorted({k.split("|")[0] for k in table[models[0]]})
    rows = []
    for held in sets:
        train = {m: [v for k, v in g[m].items() if k.split("|")[0] != held] for m in models}
        ok = [m for m in models if train[m] and min(train[m]) >= -3.0] or models
        best = max(ok, key=lambda m: mean(train[m]))
        rows.append(
            {
                "held_out": held,
                "chosen": best,
                "train_gain": mean(train[best]),
                **{k.split("|")[1]: v for k, v in g[best].items() if k.split("|")[0] == held},
            }
        )
    return rows


def print_stop_by_model(by_model: dict[str, dict[str, list[tuple[float, float]]]]) -> None:
    """Per ranking model and stopping rule: runs reaching 95% recall, mean work saved; then
    pooled, and the models on which each rule misses the issue's bar (>= 95% of runs)."""
    rules = list(stoprules.RULES)
    print("stopping rules by ranking model: runs with recall >= 95% / runs, mean work saved")
    print(f"{'model':<14}" + "".join(f"{r:>18}" for r in rules))
    pooled: dict[str, list[tuple[float, float]]] = {r: [] for r in rules}
    misses: dict[str, list[str]] = {r: [] for r in rules}
    for m, per_rule in by_model.items():
        cells = ""
        for r in rules:
            v = per_rule.get(r, [])
            pooled[r] += v
            ok = sum(x >= 0.95 for x, _ in v)
            if v and ok < 0.95 * len(v):
                misses[r].append(f"{m} {ok}/{len(v)}")
            cells += f"{ok:>5}/{len(v):<3} {100 * mean([s for _, s in v]) if v else 0:5.1f}%   "
        print(f"{m:<14}{cells}")
    for r in rules:
        v = pooled[r]
        ok = sum(x >= 0.95 for x, _ in v)
        print(
            f"  {r}: pooled {ok}/{len(v)} ({100 * ok / max(len(v), 1):.1f}%), mean saved"
            f" {100 * mean([s for _, s in v]):.1f}%; below 95% of runs on:"
            f" {', '.join(misses[r]) or 'no model'}"
        )


def main() -> None:
    global RUNS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=f"{priority.DEFAULT_RECIPE},u4")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--labels", default="included,abstract")
    ap.add_argument("--sets", default="", help="only sets whose name contains this")
    ap.add_argument("--no-asreview", action="store_true")
    ap.add_argument(
        "--asreview-cached-only",
        action="store_true",
        help="use only ASReview runs already in CACHE (no new runs); others show as missing",
    )
    ap.add_argument("--cached-only", action="store_true", help="report only runs already cached")
    ap.add_argument("--lodo", action="store_true", help="leave-one-dataset-out model choice")
    ap.add_argument(
        "--stop-by-model",
        action="store_true",
        help="every stopping rule on every model's runs: does a rule reach 95%% recall in"
        " >= 95%% of runs whatever ranks the records?",
    )
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per ASReview run")
    ap.add_argument("--json-out", default="")
    ap.add_argument(
        "--runs", default=str(RUNS), help="directory caching our runs (a new one re-runs them)"
    )
    args = ap.parse_args()
    RUNS = Path(args.runs)
    if not DATA.exists():
        sys.exit(f"no data at {DATA}")
    models = [m for m in args.models.split(",") if m]
    seeds = [int(s) for s in args.seeds.split(",")]
    files = sorted(p for p in DATA.glob("*.csv") if "index" not in p.name and args.sets in p.name)
    run_as = not args.no_asreview and ASREVIEW.exists()
    cols = "".join(f"{m[:9]:>10}" for m in models)
    hdr = f"{'set':<36}{'label':>6}{cols}{'ASReview':>10}  {'RRF@10':>6} {'loss':>6}  {'ASR RRF':>7} {'loss':>6}  {'s/run':>5}"
    print(f"models {', '.join(models)}; seeds {args.seeds}; WSS@95 per model (mean over seeds)")
    print(hdr)
    table: dict[str, dict[str, dict[int, float]]] = {m: {} for m in models + ["asreview"]}
    first_runs: list[dict[str, Any]] = []
    all_rows: list[dict[str, Any]] = []
    by_model: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for lab in args.labels.split(","):
        label = LABELS[lab]
        for f in files:
            with f.open(newline="", encoding="utf-8") as fh:
                if label not in next(csv.reader(fh)):
                    continue
            _, labels = sim.read_labelled_pairs(f, label)
            key = f"{f.stem}|{lab}"
            per: dict[str, list[dict[str, Any]]] = {}
            for m in models:
                rs = our_runs(m, f, label, seeds, args.cached_only)
                per[m] = [
                    metrics(labels, list(r["order"]), r["n_priors"]) | {"wall": r["wall"]}
                    for r in rs
                ]
                table[m][key] = {r["seed"]: x["wss95"] for r, x in zip(rs, per[m], strict=True)}
                if args.stop_by_model or m == models[0]:
                    n = len(labels)
                    for r in rs:  # every stopping rule, recomputed once from the cached order
                        st = stoprules.apply_all(labels, r["order"], r["n_priors"], seed=r["seed"])
                        if args.stop_by_model:
                            for k, v in st.items():
                                by_model.setdefault(m, {}).setdefault(k, []).append(
                                    (v.recall, v.saved(n))
                                )
                        if m == models[0]:
                            stop = {
                                k: {
                                    "recall": v.recall,
                                    "saved": v.saved(n),
                                    "stopped_at": v.screened,
                                }
                                for k, v in st.items()
                            }
                            first_runs.append(
                                {"set": f.stem, "label": lab, "seed": r["seed"], "stopping": stop}
                            )
            theirs: list[dict[str, Any]] = []
            if run_as or args.asreview_cached_only:
                for seed in seeds:
                    priors = sim.choose_priors(labels, 1, 1, seed)
                    key_file = CACHE / f"{f.stem}-{label}-{seed}-{'_'.join(map(str, priors))}.json"
                    if args.asreview_cached_only and not key_file.exists():
                        continue
                    try:
                        o = asreview_order(f, label, priors, seed, args.timeout)
                        theirs.append(metrics(labels, o, 2) | {"seed": seed})
                    except (subprocess.SubprocessError, OSError, KeyError) as e:
                        print(f"  asreview failed on {f.stem} seed {seed}: {e}", file=sys.stderr)
            table["asreview"][key] = {x["seed"]: x["wss95"] for x in theirs}
            p0 = per[models[0]]
            wss_cols = "".join(f"{mean([x['wss95'] for x in per[m]]):10.1f}" for m in models)
            print(
                f"{f.stem:<36}{lab[:6]:>6}{wss_cols}{mean([x['wss95'] for x in theirs]):10.1f}"
                f"  {mean([x['rrf10'] for x in p0]):6.1f} {mean([x['loss'] for x in p0]):6.3f}"
                f"  {mean([x['rrf10'] for x in theirs]):7.1f} {mean([x['loss'] for x in theirs]):6.3f}"
                f"  {mean([x['wall'] for x in p0]):5.0f}",
                flush=True,
            )
            all_rows.append(
                {"set": f.stem, "label": lab, **{m: per[m] for m in models}, "asreview": theirs}
            )
    if args.json_out:
        Path(args.json_out).with_suffix(".stopping.json").write_text(
            json.dumps(first_runs, indent=1)
        )
    print("-" * len(hdr))
    for lab in args.labels.split(","):
        keys = [k for k in table[models[0]] if k.endswith("|" + lab)]
        line = f"mean WSS@95 ({lab}, {len(keys)} sets):"
        for m in models + ["asreview"]:
            vals = [v for k in keys for v in table[m].get(k, {}).values()]
            line += f" {m} {mean(vals):.1f} ({len(vals)} runs);"
        print(line)
        for other in [m for m in models[1:]] + ["asreview"]:
            diffs, matched = [], 0
            for k in keys:
                both = set(table[models[0]][k]) & set(table[other].get(k, {}))
                if both:
                    matched += len(both)
                    diffs.append(
                        (
                            k.split("|")[0],
                            mean([table[models[0]][k][s] - table[other][k][s] for s in both]),
                        )
                    )
            if diffs:
                print(
                    f"  {models[0]} - {other} on the same {matched} runs: mean"
                    f" {mean([d for _, d in diffs]):+.2f} (per set mean), worst set"
                    f" {min(d for _, d in diffs):+.1f}; "
                    + ", ".join(f"{n.replace('Cohen_2006_', '')[:12]} {d:+.1f}" for n, d in diffs)
                )
        if "u4" in models:
            pairs = [
                (table["u4"][k][s], table["asreview"][k][s])
                for k in keys
                for s in set(table["u4"][k]) & set(table["asreview"].get(k, {}))
            ]
            if pairs:
                same = sum(1 for a, b in pairs if abs(a - b) < 1e-9)
                print(
                    f"  u4 parity: our u4 - ASReview mean {mean([a - b for a, b in pairs]):+.2f}"
                    f" over {len(pairs)} runs; identical WSS@95 in {same}"
                )
    if by_model:
        print_stop_by_model(by_model)
    if args.lodo and len(models) > 1:
        cands = [m for m in models if m != "u4"]
        print(
            f"leave-one-dataset-out among {', '.join(cands)}: chosen on the other 7 sets (both"
            " labels; best mean gain over ASReview among models no set x label below it by > 3),"
            " gain over ASReview on the held-out set:"
        )
        rows = lodo(table, cands)
        for r in rows:
            held = "  ".join(
                f"{lab} {r[lab]:+5.1f}" for lab in ("included", "abstract") if lab in r
            )
            print(
                f"  held out {r['held_out']:<36} chosen {r['chosen']:<10}"
                f" (other sets {r['train_gain']:+.1f})  held out: {held}"
            )
        for lab in ("included", "abstract"):
            vals = [r[lab] for r in rows if lab in r]
            if vals:
                print(
                    f"  LODO {lab}: mean held-out gain {mean(vals):+.2f} over {len(vals)} sets,"
                    f" worst {min(vals):+.1f}"
                )
    print(f"stopping rules on {models[0]} ({len(first_runs)} runs; target recall 95%):")
    print(
        f"  {'rule':<10}{'>=95% recall':>14}{'mean recall':>12}{'min recall':>11}{'work saved':>11}"
    )
    for rule in stoprules.RULES if first_runs else ():
        st = [r["stopping"][rule] for r in first_runs]
        ok = sum(1 for s in st if s["recall"] >= 0.95)
        print(
            f"  {rule:<10}{ok:>7}/{len(st):<3} ({100 * ok / len(st):3.0f}%)"
            f"{100 * mean([s['recall'] for s in st]):11.1f}%{100 * min(s['recall'] for s in st):10.1f}%"
            f"{100 * mean([s['saved'] for s in st]):10.1f}%"
        )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(all_rows, indent=1))


if __name__ == "__main__":
    main()
