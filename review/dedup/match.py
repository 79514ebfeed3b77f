"""Pure pair scoring: two normalised records -> duplicate / maybe / distinct, with a score and a rule.

The rules are written out rather than learned so a reviewer can read why two records merged. They
were tuned on the four labelled Rathbone sets together (``benchmarks/dedup.py``), not on one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from .normalize import Features

DUPLICATE = "duplicate"
MAYBE = "maybe"
DISTINCT = "distinct"

#: title similarity (0-1) above which a pair with agreeing metadata is a duplicate; chosen by
#: leave-one-dataset-out on 13 labelled sets (``benchmarks/dedup.py --lodo``): every fold picks it
DEFAULT_THRESHOLD = 0.95
#: similar titles down to this go to the review queue when something else agrees, whatever the
#: merge threshold: a stricter threshold must not hide pairs from the reviewer
QUEUE_TITLE = 0.75


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: str
    score: float
    rule: str


_NO = Verdict(DISTINCT, 0.0, "")


def title_similarity(a: str, b: str) -> float:
    """0-1: the best of plain ratio and token-set ratio (a title cut short or with a subtitle)."""
    if not a or not b:
        return 0.0
    r = fuzz.ratio(a, b)
    if r < 95:
        r = max(r, fuzz.token_sort_ratio(a, b) - 2)
        short, long_ = (a, b) if len(a) <= len(b) else (b, a)
        if len(short.split()) >= 4 and long_.startswith(short):
            r = max(r, 95.0)  # cut short, or a subtitle added
    return r / 100.0


def title_similarity_many(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """``title_similarity`` of a[k] and b[k] for every k, in C, except the 'cut short' rule.

    That rule only raises a score, and only when one title starts with the other: callers that
    use this as a filter must keep such pairs.
    """
    if not len(a):
        return np.zeros(0)
    r = process.cpdist(a, b, scorer=fuzz.ratio, dtype=np.float64)
    low = r < 95
    if low.any():
        idx = np.flatnonzero(low).tolist()
        ts = process.cpdist(
            [a[k] for k in idx], [b[k] for k in idx], scorer=fuzz.token_sort_ratio, dtype=np.float64
        )
        r[idx] = np.maximum(r[idx], ts - 2)
    empty = np.fromiter((not x or not y for x, y in zip(a, b, strict=True)), bool, len(a))
    r[empty] = 0.0
    return r / 100.0


def min_title_score(threshold: float = DEFAULT_THRESHOLD) -> float:
    """Below this title similarity ``score_pair`` says distinct unless ``bib`` holds (same first
    page range, volume, year and first author)."""
    return min(threshold - 0.15, QUEUE_TITLE)


def author_similarity(a: Features, b: Features) -> float | None:
    """Author overlap, also trying the names' other part ('Ching-yi, Wu' against 'Wu, C. Y.')."""
    sim = _author_similarity(a.authors, b.authors)
    if sim is None or sim >= 0.8:
        return sim
    return max(
        sim,
        _author_similarity(a.authors_alt, b.authors) or 0.0,
        _author_similarity(a.authors, b.authors_alt) or 0.0,
    )


def _author_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
    """Share of the shorter author list found in the longer one (fuzzy surnames); None if unknown."""
    if not a or not b:
        return None
    if a[0].startswith("org:") != b[0].startswith("org:"):
        return None  # a corporate author against people: says nothing
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    pool = set(long_)
    hits = 0.0
    for s in short:
        if s in pool:
            hits += 1
        elif any(fuzz.ratio(s, t) >= 80 or (len(s) > 3 and (s in t or t in s)) for t in long_):
            hits += 0.8
    sim = hits / len(short)
    if a[0] == b[0] or fuzz.ratio(a[0], b[0]) >= 80 or a[0] in b or b[0] in a:
        return sim
    return sim * 0.8


@lru_cache(maxsize=1 << 16)
def venue_similarity(a: str, b: str) -> float | None:
    """0-1, abbreviation-aware: 'pediatr nephrol' ~ 'pediatric nephrology'; None if unknown."""
    if not a or not b:
        return None
    ta, tb = a.split(), b.split()
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    hits = sum(1 for w in short if any(t.startswith(w) or w.startswith(t) for t in long_))
    return max(hits / len(short), fuzz.token_set_ratio(a, b) / 100.0)


_NUM_RE = re.compile(r"\b(\d+|i{1,3}|iv|v|vi{1,3})\b")


def numbers_differ(a: str, b: str) -> bool:
    """'FOCUS 1 ...' vs 'FOCUS 2 ...', 'phase ii' vs 'phase iii': different studies."""
    na, nb = set(_NUM_RE.findall(a)), set(_NUM_RE.findall(b))
    return bool(na and nb) and na != nb


def pages_agree(a: tuple[str, int, int] | None, b: tuple[str, int, int] | None) -> bool | None:
    """True if the ranges overlap, False if they cannot be the same article, None if unknown."""
    if a is None or b is None or a[0] != b[0]:
        return None  # 'a1754' against '969-972': an article number against pages
    return a[1] <= b[2] and b[1] <= a[2]


#: a journal-club commentary repeats the title (and authors) of the article it discusses
_CLUB = "journal club"


def _eq(x: str, y: str) -> bool | None:
    return None if not x or not y else x == y


#: DOI prefixes of preprint servers (arXiv, bioRxiv/medRxiv, Research Square, Preprints.org,
#: SSRN, OSF and its family, TechRxiv, JMIR Preprints): a preprint and its journal version
#: have different DOIs, yet may be one study reported twice
PREPRINT_DOI_PREFIXES = (
    "10.48550/",
    "10.1101/",
    "10.21203/",
    "10.20944/",
    "10.2139/",
    "10.31219/",
    "10.31234/",
    "10.31235/",
    "10.31222/",
    "10.36227/",
    "10.2196/preprints",
)


def is_preprint_doi(doi: str) -> bool:
    return doi.startswith(PREPRINT_DOI_PREFIXES)


def score_pair(a: Features, b: Features, threshold: float = DEFAULT_THRESHOLD) -> Verdict:
    """Compare two records. Conflicting DOIs/PMIDs or far-apart years are never duplicates.

    A preprint DOI against a journal DOI is not a conflict, but such a pair is only ever queued.
    """
    preprint = False
    if a.doi and b.doi and a.doi != b.doi:
        if not (is_preprint_doi(a.doi) != is_preprint_doi(b.doi)):
            return _NO
        preprint = True
    if a.pmid and b.pmid and a.pmid != b.pmid:
        return _NO
    if a.notice != b.notice and not (a.page and a.page == b.page and a.volume == b.volume):
        return _NO  # a notice ('Erratum: <title>') is not the article it is about (other pages)
    ydiff = abs(a.year - b.year) if a.year is not None and b.year is not None else 0
    if ydiff > 2:
        return _NO
    v = _score(a, b, threshold, ydiff)
    if preprint and v.decision == DUPLICATE:
        return Verdict(MAYBE, v.score * 0.9, "preprint")
    return v


def _score(a: Features, b: Features, threshold: float, ydiff: int) -> Verdict:
    if a.url and b.url and a.url != b.url and a.text_head and b.text_head:
        # two web pages at different addresses with different text are different documents,
        # whatever their (often generic) titles say; mirrors share text and merge by rule 'text'
        from rapidfuzz import fuzz

        if fuzz.ratio(a.text_head, b.text_head) < 60:
            return _NO
    t = title_similarity(a.title, b.title)
    weak = a.title_weak or b.title_weak
    if t < 0.5 and not (a.page and a.page == b.page):
        return _NO
    page = pages_agree(a.pages, b.pages)
    vol = _eq(a.volume, b.volume)
    issue = _eq(a.issue, b.issue)
    if weak and (page is False or vol is False or (issue is False and page is None)):
        return _NO  # a recurring title in another issue or on other pages: another item
    first_author = bool(a.authors and b.authors) and a.authors[0] == b.authors[0]
    bib = page is True and vol is True and ydiff == 0 and first_author
    if t < min_title_score(threshold) and not bib:
        return _NO  # no rule below can fire: skip the costlier author and venue comparisons
    au = author_similarity(a, b)
    venue = venue_similarity(a.venue, b.venue)
    venue_conflict = venue is not None and venue < 0.5
    # first pages a few pages apart with the same title, authors, volume and year: a page typo
    near = a.pages is not None and b.pages is not None and abs(a.pages[1] - b.pages[1]) < 20
    typo = near and t >= 0.97 and au is not None and au >= 0.8 and vol is True and ydiff == 0
    hard = (
        (page is False and not typo)
        or numbers_differ(a.title, b.title)
        or (au is not None and au < 0.4)
        or (vol is False and venue is not None and venue < 0.8)
        or (ydiff >= 1 and venue_conflict)
        or (venue_conflict and (_CLUB in a.venue) != (_CLUB in b.venue))
    )
    soft = sum(
        (
            page is False,
            vol is False,
            venue_conflict,
            ydiff >= 1,
            issue is False and vol is not True,
            au is not None and au < 0.6,
            a.record_type != b.record_type and bool(a.record_type and b.record_type) and ydiff >= 1,
        )
    )
    support = sum(
        (
            page is True,
            vol is True,
            au is not None and au >= 0.8,
            ydiff == 0 and a.year is not None,
            venue is not None and venue >= 0.8,
        )
    )
    same_range = a.pages is not None and a.pages == b.pages and a.pages[2] > a.pages[1]

    obvious = (
        not weak
        and a.title == b.title
        and ydiff == 0
        and a.year is not None
        and first_author
        and page is not False
        and vol is not False
        and (issue is not False or page is True)
        and not venue_conflict
    )
    if not weak and t >= threshold:
        if hard:
            if obvious:  # what a reviewer settles at a glance (see below)
                return Verdict(DUPLICATE, t * 0.97, "same-title-year-author")
            return Verdict(MAYBE, t * 0.9, "title")
        if soft == 0:
            return Verdict(DUPLICATE, t, "title+meta")
        if soft == 1 and support >= 2 and t >= 0.95:
            return Verdict(DUPLICATE, t * 0.98, "title+meta")
        if obvious:
            # what a reviewer settles at a glance: same normalised title, year and first
            # author, no conflicting volume or pages
            return Verdict(DUPLICATE, t * 0.97, "same-title-year-author")
        return Verdict(MAYBE, t * 0.9, "title")
    if (
        bib
        and not weak
        and au is not None
        and au >= 0.8
        and (same_range or a.other_language or b.other_language or t >= 0.8)
    ):
        # same pages, volume, year and authors: one article whose title differs (translation)
        return Verdict(DUPLICATE, max(t, 0.85), "bibliographic")
    if weak and t >= 0.95 and bib and au is not None and au >= 0.8:
        return Verdict(DUPLICATE, t * 0.95, "short-title+meta")
    if not weak and not hard and t >= threshold - 0.1 and support >= 3 and soft == 0:
        return Verdict(DUPLICATE, t, "title+meta")
    if not weak and t >= min_title_score(threshold) and soft <= 1 and support >= 1:
        return Verdict(MAYBE, t * 0.9, "title")
    if bib:
        return Verdict(MAYBE, max(t, 0.5), "bibliographic")
    if weak and t >= 0.95 and support >= 2 and not hard:
        return Verdict(MAYBE, t * 0.8, "short-title")
    return _NO
