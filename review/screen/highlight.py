"""Keyword highlights for the screening app: pure functions from text to spans.

``keyword_spans(text, include, exclude)`` finds every whole-word, case-insensitive occurrence of
the protocol's include and exclude keywords and returns non-overlapping ``Span``s in text order;
where keywords overlap, the longer one wins (so "smart cities" beats "cities").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Kind = Literal["include", "exclude"]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: Kind
    keyword: str


@lru_cache(maxsize=32)
def _pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    words = sorted({k.strip() for k in keywords if k.strip()}, key=len, reverse=True)
    if not words:
        return None
    alts = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.IGNORECASE)


def _find(text: str, keywords: tuple[str, ...], kind: Kind) -> list[Span]:
    pat = _pattern(keywords)
    if pat is None:
        return []
    return [Span(m.start(), m.end(), kind, m.group(0)) for m in pat.finditer(text)]


def keyword_spans(
    text: str | None, include: Iterable[str] = (), exclude: Iterable[str] = ()
) -> list[Span]:
    """Non-overlapping keyword spans in ``text``, sorted by start."""
    if not text:
        return []
    found = _find(text, tuple(include), "include") + _find(text, tuple(exclude), "exclude")
    found.sort(key=lambda s: (s.start, -(s.end - s.start)))
    out: list[Span] = []
    for s in found:
        if out and s.start < out[-1].end:
            continue  # overlaps an earlier (or longer, same-start) span
        out.append(s)
    return out


def keyword_counts(spans: Iterable[Span]) -> dict[str, int]:
    """How many include and exclude hits (for the record header)."""
    counts = {"include": 0, "exclude": 0}
    for s in spans:
        counts[s.kind] += 1
    return counts
