"""Blocking: candidate pairs from a few cheap keys, so cost grows about linearly with records.

A pair is compared only if the two records share at least one key: the start or end of the title,
the two longest title words, first author + year, year + first page, volume + first page. Blocks
larger than ``max_block`` (common short titles, a busy year) are not compared all-against-all;
their records are sorted by title and each is compared with its ``window`` neighbours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from .normalize import Features


def keys(f: Features) -> Iterator[str]:
    t = f.title.replace(" ", "")
    if len(t) >= 6:
        yield "tp:" + t[:18]
        yield "ts:" + t[-18:]
        words = sorted({w for w in f.title.split() if len(w) > 3}, key=lambda w: (-len(w), w))[:2]
        if len(words) == 2:
            yield "tw:" + " ".join(sorted(words))
    if f.authors and f.year:
        yield f"ay:{f.authors[0]}:{f.year}"
    if f.page:
        if f.year:
            yield f"yp:{f.year}:{f.page}"
        if f.volume:
            yield f"vp:{f.volume}:{f.page}"


def candidate_pairs(
    feats: Sequence[Features], *, max_block: int = 50, window: int = 6
) -> Iterable[tuple[int, int]]:
    """Index pairs (i < j) into ``feats`` sharing a blocking key, each pair once."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(feats):
        for k in keys(f):
            blocks[k].append(i)
    seen: set[tuple[int, int]] = set()
    for members in blocks.values():
        n = len(members)
        if n < 2:
            continue
        if n <= max_block:
            for x in range(n):
                i = members[x]
                for y in range(x + 1, n):
                    j = members[y]
                    p = (i, j) if i < j else (j, i)
                    if p not in seen:
                        seen.add(p)
                        yield p
        else:
            ordered = sorted(members, key=lambda i: feats[i].title)
            for x in range(n):
                i = ordered[x]
                for y in range(x + 1, min(n, x + 1 + window)):
                    j = ordered[y]
                    p = (i, j) if i < j else (j, i)
                    if p not in seen:
                        seen.add(p)
                        yield p
