"""Labelled data for ``review simulate``: ASReview-style CSVs and their sentence embeddings.

``read_labelled_pairs(path, label)`` gives ((title, abstract) pairs, 0/1 labels), naming the file
and line of a bad label; ``embed_texts(pairs)`` gives their all-MiniLM-L6-v2 vectors from a user
cache keyed by content hash (``embedding_cache_path()``), so a set is embedded once ever.
simulate.py re-exports all four names.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import FormatError
from .recipes import text_of


def embedding_cache_path() -> Path:
    """The user embeddings cache: $REVIEW_CACHE_DIR/embeddings.db, else
    $XDG_CACHE_HOME/review/embeddings.db, else ~/.cache/review/embeddings.db."""
    import os

    base = os.environ.get("REVIEW_CACHE_DIR")
    if base:
        return Path(base) / "embeddings.db"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "review" / "embeddings.db"


def embed_texts(pairs: Sequence[tuple[str, str]], cache: str | Path | None = None) -> Any:
    """Sentence embeddings (all-MiniLM-L6-v2, offline) of (title, abstract) pairs, embedded as
    ``title\nabstract`` and keyed by that text's content hash, like the workspace cache.

    Vectors are read from and written to the ``embeddings`` table of a cache workspace
    (``cache``, default ``embedding_cache_path()``), so a set is embedded once ever: a second
    seed or a second run costs a read. The model loads only when some text is not cached.
    """
    import numpy as np

    from ..models import text_hash
    from ..store import Workspace
    from ..themes.embed import DEFAULT_MODEL, embed
    from ..themes.run import embedding_text  # the text (and key) `review themes` embeds

    texts = [embedding_text(t, a) for t, a in pairs]
    items = [(text_hash(t), t) for t in texts]
    path = Path(cache) if cache is not None else embedding_cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    ws = Workspace.open(path, create=True)
    try:
        vecs = embed(ws, items, DEFAULT_MODEL)
    finally:
        ws.close()
    return np.asarray(vecs, dtype=np.float32)


def read_labelled_csv(path: str | Path, label: str | None = None) -> tuple[list[str], list[int]]:
    """(texts, labels) from an ASReview-style CSV: title, abstract and a 0/1 label column."""
    pairs, labels = read_labelled_pairs(path, label)
    return [text_of(t, a) for t, a in pairs], labels


def read_labelled_pairs(
    path: str | Path, label: str | None = None
) -> tuple[list[tuple[str, str]], list[int]]:
    """([(title, abstract)], labels) from an ASReview-style CSV with a 0/1 label column."""
    p = Path(path)
    try:
        fh = p.open(newline="", encoding="utf-8-sig")
    except OSError as e:
        raise FormatError(f"cannot read ({e.strerror})", path=str(p))
    with fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        col = label or "label_included"
        if col not in cols:
            raise FormatError(f"no column {col!r} (columns: {', '.join(cols)})", path=str(p))
        if "title" not in cols and "abstract" not in cols:
            raise FormatError("needs a 'title' or 'abstract' column", path=str(p))
        texts: list[tuple[str, str]] = []
        labels: list[int] = []
        for line, row in enumerate(reader, 2):
            raw = (row.get(col) or "").strip()
            try:
                v = int(float(raw))
            except ValueError:
                v = -1
            if v not in (0, 1):
                raise FormatError(f"label {raw!r} is not 0 or 1", path=str(p), where=f"line {line}")
            texts.append((row.get("title") or "", row.get("abstract") or ""))
            labels.append(v)
    if not texts:
        raise FormatError("no records", path=str(p))
    return texts, labels
