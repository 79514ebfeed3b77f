"""City suggestions for a text field about the city studied: gazetteer city names in the text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from ..themes.gazetteer import CITIES
from .codebook import CodingField
from .text import Sentence


def is_city_field(f: CodingField) -> bool:
    words = f"{f.name} {f.label}".lower()
    return f.kind == "text" and ("city" in words or "municipal" in words or "town" in words)


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    names = sorted(CITIES, key=len, reverse=True)
    return re.compile(r"(?<![\w])(" + "|".join(re.escape(n) for n in names) + r")(?![\w])")


def most_mentioned(sents: Sequence[Sentence]) -> tuple[str, Sentence, int] | None:
    """(city, first sentence naming it, mentions) for the city named most often; None if none."""
    counts: Counter[str] = Counter()
    first: dict[str, Sentence] = {}
    for s in sents:
        for m in _pattern().finditer(s.text):
            counts[m.group(1)] += 1
            first.setdefault(m.group(1), s)
    if not counts:
        return None
    name, n = max(counts.items(), key=lambda kv: (kv[1], -list(first).index(kv[0])))
    return name, first[name], n
