"""Themes benchmark: our clustering (PCA + hdbscan, and UMAP + hdbscan) beside BERTopic.

Gold labels: arXiv archive on ../shared/data/clustering/arxiv_data.csv (2,000 records), and
"which review" on pooled screening sets (100 records sampled from each of the 8 sets in
../shared/data/screening). All methods use the same all-MiniLM-L6-v2 embeddings, cached in
/tmp/review-bench-themes-emb.npz so they are computed once. BERTopic (default settings, UMAP seed
42) runs in its own venv (/tmp/bench-bertopic, torch==2.13.0 installed first); when it is absent
its published figures from FACTS.md are printed instead, marked as such.

    .venv/bin/python benchmarks/themes.py [--shared ../shared/data] [--no-umap] [--no-bertopic]

``--cached-run`` instead times the issue's speed goal: ``review themes --stage all --seed 42``
over a 10k-work workspace whose embeddings are all cached (built once under /tmp from the 8
screening sets + arXiv; embedding the 10k texts the first time takes minutes), printing wall
and CPU seconds of each run and the load average (the CPU seconds are what an idle machine
would take; wall time on a shared machine is larger).

    .venv/bin/python benchmarks/themes.py --cached-run [--workspace /tmp/x.db] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = Path("/tmp/review-bench-themes-emb.npz")
BERTOPIC_PY = Path("/tmp/bench-bertopic/bin/python")
FACTS_BERTOPIC = {"ari": 0.375, "nmi": 0.524, "outliers": 0.225, "topics": 29, "seconds": None}
csv.field_size_limit(10**8)


def load_arxiv(shared: Path) -> tuple[list[str], list[str], list[str]]:
    texts, titles, labels = [], [], []
    with open(shared / "clustering" / "arxiv_data.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            cat = (row["categories"] or "").split()[0]
            labels.append(cat.split(".")[0])
            title = " ".join(row["title"].split())
            titles.append(title)
            texts.append(f"{title}\n{' '.join(row['abstract'].split())}")
    return texts, titles, labels


def load_screening(
    shared: Path, per_set: int = 100, seed: int = 42
) -> tuple[list[str], list[str], list[str]]:
    texts, titles, labels = [], [], []
    rng = random.Random(seed)
    for p in sorted((shared / "screening").glob("*.csv")):
        if p.name.startswith("asreview"):
            continue
        with open(p, encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if (r.get("abstract") or "").strip()]
        for r in rng.sample(rows, min(per_set, len(rows))):
            title = " ".join((r.get("title") or "").split())
            titles.append(title)
            texts.append(f"{title}\n{' '.join(r['abstract'].split())}")
            labels.append(p.stem)
    return texts, titles, labels


def embeddings(name: str, texts: list[str]) -> np.ndarray:
    store = dict(np.load(CACHE)) if CACHE.exists() else {}
    if name in store and store[name].shape[0] == len(texts):
        return store[name]
    from review.themes.embed import load_model

    t = time.perf_counter()
    vecs = np.asarray(
        load_model().encode(
            texts, batch_size=64, normalize_embeddings=True, show_progress_bar=True
        ),
        dtype=np.float32,
    )
    print(f"  embedded {len(texts)} texts in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    store[name] = vecs
    np.savez(CACHE, **store)
    return vecs


def scores(labels: list[str], pred: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "ari": adjusted_rand_score(labels, pred),
        "nmi": normalized_mutual_info_score(labels, pred),
        "outliers": float(np.mean(pred == -1)),
        "topics": len(set(pred.tolist()) - {-1}),
    }


BERTOPIC_SCRIPT = """
import json, sys, time
import numpy as np
from bertopic import BERTopic
from umap import UMAP
d = np.load(sys.argv[1]); texts = json.load(open(sys.argv[2]))
t = time.perf_counter()
m = BERTopic(umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42))
topics, _ = m.fit_transform(texts, d[sys.argv[3]])
print(json.dumps({"pred": [int(x) for x in topics], "seconds": time.perf_counter() - t}))
"""


def bertopic(name: str, texts: list[str]) -> tuple[np.ndarray, float] | None:
    if not BERTOPIC_PY.exists():
        return None
    tf = Path(f"/tmp/review-bench-{name}-texts.json")
    tf.write_text(json.dumps(texts))
    sf = Path("/tmp/review-bench-bertopic.py")
    sf.write_text(BERTOPIC_SCRIPT)
    p = subprocess.run(
        [str(BERTOPIC_PY), str(sf), str(CACHE), str(tf), name], capture_output=True, text=True
    )
    if p.returncode != 0:
        print(f"  BERTopic failed: {p.stderr[-400:]}", file=sys.stderr)
        return None
    out = json.loads(p.stdout.strip().splitlines()[-1])
    return np.array(out["pred"]), float(out["seconds"])


def ours(vecs: np.ndarray, reducer: str) -> tuple[np.ndarray, float]:
    import hdbscan  # noqa: F401 - imported before the clock starts (~1-3 s, once per process)

    from review.themes.cluster import ClusterParams, cluster

    t = time.perf_counter()
    c = cluster(vecs, ClusterParams(reducer=reducer, seed=42))
    return c.labels, time.perf_counter() - t


WORKSPACE_10K = Path("/tmp/review-bench-themes-10k.db")


def build_10k(shared: Path, path: Path, n: int = 10_000) -> None:
    """A workspace of ``n`` works: every screening record, then arXiv records up to ``n``."""
    from review import protocol
    from review.models import Record
    from review.store import init
    from review.store.records import add_records, start_search

    recs: list[Record] = []
    for p in sorted((shared / "screening").glob("*.csv")):
        if p.name.startswith("asreview"):
            continue
        with open(p, encoding="utf-8") as f:
            for i, r in enumerate(csv.DictReader(f)):
                recs.append(
                    Record(
                        title=" ".join((r.get("title") or "").split()) or None,
                        abstract=" ".join((r.get("abstract") or "").split()) or None,
                        source_record_id=f"{p.stem}:{i}",
                    )
                )
    with open(shared / "clustering" / "arxiv_data.csv", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f)):
            if len(recs) >= n:
                break
            recs.append(
                Record(
                    title=" ".join(r["title"].split()),
                    abstract=" ".join(r["abstract"].split()),
                    source_record_id=f"arxiv:{i}",
                )
            )
    ws = init(path, protocol.load(ROOT / "protocols" / "sadc-smart-cities.toml"))
    sid = start_search(ws, source="bench", arm="databases", kind="file")
    add_records(ws, sid, recs[:n])
    ws.close()


def cached_run(shared: Path, path: Path, repeat: int) -> None:
    """Time `review themes --stage all` with every text cached (wall and CPU of the process)."""
    import resource
    import tempfile

    cmd = [str(ROOT / ".venv" / "bin" / "review"), "themes", "--stage", "all", "--seed", "42"]
    if not path.exists():
        print(f"building {path} and embedding its texts once (minutes) ...", file=sys.stderr)
        build_10k(shared, path)
        subprocess.run([*cmd, "-o", tempfile.mkdtemp(), "--db", str(path)], check=True)
    print(f"{'run':<4} {'wall s':>7} {'cpu s':>7} {'load':>5}  output")
    for k in range(repeat):
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run(
            [*cmd, "-o", tempfile.mkdtemp(), "--db", str(path)], capture_output=True, text=True
        )
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if p.returncode != 0:
            sys.exit(p.stderr[-800:])
        first = p.stdout.splitlines()[0] if p.stdout else ""
        print(f"{k + 1:<4} {wall:7.1f} {cpu:7.1f} {load:5.1f}  {first}")
    print("goal: < 10 s for 10k cached texts (issue 8)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--no-umap", action="store_true", help="skip our UMAP variant (slow)")
    ap.add_argument("--no-bertopic", action="store_true")
    ap.add_argument("--cached-run", action="store_true", help="time a 10k-work cached run")
    ap.add_argument("--workspace", type=Path, default=WORKSPACE_10K)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    if a.cached_run:
        cached_run(a.shared, a.workspace, a.repeat)
        return
    if not (a.shared / "clustering" / "arxiv_data.csv").exists():
        sys.exit(f"shared data not found under {a.shared}")
    sets = {"arxiv": load_arxiv(a.shared), "screening": load_screening(a.shared)}
    print(
        f"{'set':<10} {'method':<22} {'ARI':>6} {'NMI':>6} {'outliers':>9} {'topics':>7} {'seconds':>8}"
    )
    for name, (texts, _, labels) in sets.items():
        vecs = embeddings(name, texts)
        methods = [("review PCA+hdbscan", "pca")] + (
            [] if a.no_umap else [("review UMAP+hdbscan", "umap")]
        )
        for label, reducer in methods:
            pred, secs = ours(vecs, reducer)
            s = scores(labels, pred)
            print(
                f"{name:<10} {label:<22} {s['ari']:6.3f} {s['nmi']:6.3f} {s['outliers']:9.1%} {s['topics']:7d} {secs:8.1f}"
            )
        res = None if a.no_bertopic else bertopic(name, texts)
        if res is not None:
            s = scores(labels, res[0])
            print(
                f"{name:<10} {'BERTopic 0.17 (run)':<22} {s['ari']:6.3f} {s['nmi']:6.3f} {s['outliers']:9.1%} {s['topics']:7d} {res[1]:8.1f}"
            )
        elif name == "arxiv":
            f = FACTS_BERTOPIC
            print(
                f"{name:<10} {'BERTopic (FACTS.md)':<22} {f['ari']:6.3f} {f['nmi']:6.3f} {f['outliers']:9.1%} {f['topics']:7d} {'-':>8}"
            )
            print("           (BERTopic not run here: figures copied from ../shared/FACTS.md)")


if __name__ == "__main__":
    main()
