"""One themes run: select works, embed (cached), cluster, label, detect countries, log and store."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ThemeError
from ..models import text_hash
from ..store.decisions import resolved_decisions
from ..store.workspace import Workspace, now
from . import regions
from .cluster import ClusterParams, cluster
from .embed import DEFAULT_MODEL, Encoder, embed
from .label import label_themes

STAGES = ("included", "screened", "all")


@dataclass(frozen=True)
class RunResult:
    run_id: int
    stage: str
    n_works: int
    n_themes: int
    n_outliers: int
    reassigned: int
    embedded: int
    seconds: float


def select_works(ws: Workspace, stage: str = "included") -> list[dict[str, Any]]:
    """Active works for ``stage``: included (at the last stage with decisions), screened, or all."""
    if stage not in STAGES:
        raise ThemeError(f"unknown --stage {stage!r}; expected one of {', '.join(STAGES)}")
    works = list(
        ws.db.query(
            "SELECT id, title, abstract, year, content_hash FROM works WHERE active = 1 ORDER BY id"
        )
    )
    if stage == "all":
        return works
    proto = ws.protocol()
    stages = list(proto.stages) if proto else []
    stages += [
        r[0]
        for r in ws.db.execute("SELECT DISTINCT stage FROM decisions ORDER BY stage")
        if r[0] not in stages
    ]
    decided = [(s, resolved_decisions(ws, s)) for s in stages]
    decided = [(s, d) for s, d in decided if d]
    if not decided:
        raise ThemeError(
            "no screening decisions yet; screen first (`review screen`) or use `--stage all`",
            path=str(ws.path),
        )
    if stage == "screened":
        keep = {wid for _, d in decided for wid in d}
    else:
        last, d = decided[-1]
        keep = {wid for wid, row in d.items() if row["decision"] == "include"}
        if not keep:
            raise ThemeError(
                f"no works included at stage {last!r}; use `--stage screened` or `--stage all`"
            )
    return [w for w in works if w["id"] in keep]


def embedding_text(title: str | None, abstract: str | None) -> str:
    """The text a work is embedded as; its hash keys the embeddings cache (``text_hash``), which
    the screening ranking and ``review simulate`` read with this same function."""
    return f"{title or ''}\n{abstract or ''}".strip()


def embedding_key(text: str, content_hash: str | None) -> str:
    """The cache key of a work's embedding: its stored content hash, else the hash of ``text``
    (``embedding_text``); `review themes` stores vectors under it, the ranking reads them."""
    return content_hash or text_hash(text)


def work_text(w: dict[str, Any]) -> str:
    return embedding_text(w.get("title"), w.get("abstract"))


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in (
        "review",
        "numpy",
        "scikit-learn",
        "hdbscan",
        "sentence-transformers",
        "torch",
        "umap-learn",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def run(
    ws: Workspace,
    stage: str = "included",
    seed: int = 42,
    min_cluster_size: int | None = None,
    model: str = DEFAULT_MODEL,
    encoder: Encoder | None = None,
    progress: Callable[[int, int], None] | None = None,
    params: ClusterParams | None = None,
) -> RunResult:
    """Cluster the selected works into themes and store the run. Returns counts and the run id."""
    t0 = time.perf_counter()
    works = select_works(ws, stage)
    works = [w for w in works if work_text(w)]
    if len(works) < 3:
        raise ThemeError(
            f"need at least 3 works with a title or abstract for --stage {stage}, found {len(works)}"
        )
    texts = [work_text(w) for w in works]
    hashes = [embedding_key(t, w["content_hash"]) for w, t in zip(works, texts, strict=True)]
    before = ws.db.execute("SELECT COUNT(*) FROM embeddings WHERE model = ?", [model]).fetchone()[0]
    proto = ws.protocol()
    seeds = list(proto.seed_themes) if proto else []
    seed_items = [(text_hash(f"seed theme\n{s}"), s) for s in seeds]
    vectors = embed(
        ws, list(zip(hashes, texts, strict=True)) + seed_items, model, encoder, progress
    )
    seed_vectors = vectors[len(works) :]
    vectors = vectors[: len(works)]
    embedded = (
        ws.db.execute("SELECT COUNT(*) FROM embeddings WHERE model = ?", [model]).fetchone()[0]
        - before
    )

    p = params or ClusterParams(seed=seed, min_cluster_size=min_cluster_size)
    c = cluster(vectors, p)
    titles = [w["title"] or "" for w in works]
    labels = label_themes(texts, titles, vectors, c.labels, seeds, seed_vectors)
    ids = [w["id"] for w in works]
    regions.detect(ws, ids)

    with ws.transaction():
        cur = ws.db.conn.execute(
            "INSERT INTO theme_runs (created_at, stage, model, params, versions, seed, n_works, n_themes,"
            " n_outliers) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                now(),
                stage,
                model,
                json.dumps(
                    {**c.params, "reassigned": c.reassigned, "seeds": seeds}, sort_keys=True
                ),
                json.dumps(versions(), sort_keys=True),
                p.seed,
                len(works),
                c.n_themes,
                c.n_outliers,
            ],
        )
        run_id = int(cur.lastrowid)  # type: ignore[arg-type]
        ws.db.conn.executemany(
            "INSERT INTO themes (run_id, theme_id, label, keywords, representative, seed_theme, seed_score, size)"
            " VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    run_id,
                    t.theme_id,
                    t.label,
                    json.dumps(list(t.keywords)),
                    json.dumps(list(t.representative)),
                    t.seed_theme,
                    t.seed_score,
                    t.size,
                )
                for t in labels
            ],
        )
        ws.db.conn.executemany(
            "INSERT INTO work_themes (run_id, work_id, theme_id, probability) VALUES (?,?,?,?)",
            [
                (run_id, wid, int(t), round(float(pr), 6))
                for wid, t, pr in zip(ids, c.labels, c.probabilities, strict=True)
            ],
        )
    return RunResult(
        run_id,
        stage,
        len(works),
        c.n_themes,
        c.n_outliers,
        c.reassigned,
        int(embedded),
        time.perf_counter() - t0,
    )
