"""Blocking: candidate pairs from a few cheap keys, so cost grows about linearly with records.

A pair is compared only if the two records share at least one key: the start or end of the title,
the two longest title words, first author + year, year + first page, volume + first page. Blocks
larger than ``max_block`` (common short titles, a busy year) are not compared all-against-all;
their records are sorted by title and each is compared with its ``window`` neighbours.

Pairs are built per block as numpy index arrays and de-duplicated in one ``np.unique`` (keeping
the order in which they first appear), so 100k records cost a few seconds, not a Python loop
over millions of tuples.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np

from .normalize import Features


def _longest_first(w: str) -> tuple[int, str]:
    return -len(w), w


def keys(f: Features) -> Iterator[str]:
    t = f.title.replace(" ", "")
    if len(t) >= 6:
        yield "tp:" + t[:18]
        yield "ts:" + t[-18:]
        words = sorted({w for w in f.title.split() if len(w) > 3}, key=_longest_first)[:2]
        if len(words) == 2:
            yield "tw:" + (
                f"{words[0]} {words[1]}" if words[0] < words[1] else f"{words[1]} {words[0]}"
            )
    if f.authors and f.year:
        yield f"ay:{f.authors[0]}:{f.year}"
    if f.page:
        if f.year:
            yield f"yp:{f.year}:{f.page}"
        if f.volume:
            yield f"vp:{f.volume}:{f.page}"


@lru_cache(maxsize=64)
def _triu(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (x, y), x < y, of every pair in a block of n, in row-major order."""
    x, y = np.triu_indices(n, 1)
    return x.astype(np.int64), y.astype(np.int64)


@lru_cache(maxsize=8)
def _window(n: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (x, x + d), 1 <= d <= window, x + d < n, in row-major order."""
    x = np.repeat(np.arange(n, dtype=np.int64), window)
    y = x + np.tile(np.arange(1, window + 1, dtype=np.int64), n)
    keep = y < n
    return x[keep], y[keep]


def candidate_array(
    feats: Sequence[Features], *, max_block: int = 50, window: int = 6
) -> np.ndarray:
    """An (m, 2) int64 array of index pairs (i < j) into ``feats`` sharing a blocking key.

    Each pair appears once, in the order of the first block that produced it (blocks in order of
    their first record, pairs within a block row by row).
    """
    blocks: dict[str, list[int]] = {}
    get = blocks.get
    for i, f in enumerate(feats):
        for k in keys(f):
            members = get(k)
            if members is None:
                blocks[k] = [i]
            else:
                members.append(i)
    n_feats = len(feats)
    chunks: list[np.ndarray] = []
    for members in blocks.values():
        n = len(members)
        if n < 2:
            continue
        if n <= max_block:
            m = np.array(members, dtype=np.int64)  # ascending: records were added in order
            x, y = _triu(n)
        else:
            m = np.array(sorted(members, key=lambda i: feats[i].title), dtype=np.int64)
            x, y = _window(n, window)
        a, b = m[x], m[y]
        chunks.append(np.minimum(a, b) * n_feats + np.maximum(a, b))
    if not chunks:
        return np.empty((0, 2), dtype=np.int64)
    codes = np.concatenate(chunks)
    _, first = np.unique(codes, return_index=True)
    first.sort()
    codes = codes[first]
    return np.stack((codes // n_feats, codes % n_feats), axis=1)


def candidate_pairs(
    feats: Sequence[Features], *, max_block: int = 50, window: int = 6
) -> Iterator[tuple[int, int]]:
    """Index pairs (i < j) into ``feats`` sharing a blocking key, each pair once."""
    pairs = candidate_array(feats, max_block=max_block, window=window).tolist()
    for i, j in pairs:  # noqa: UP028 (tuples, not the lists tolist() gives)
        yield i, j
