"""Shared identifiers (DOI, PMID, PMCID, arXiv, OpenAlex, ISBN, Scopus EID, WoS UT) as evidence.

An identifier never merges records alone. Records that share one are merged on it only when the
rest of the record corroborates it:

- the titles agree (similarity 0.8 or more, or one is the other cut short), or, when either
  record is non-English or a translation, the abstracts agree or the volume, first page and first
  author agree;
- a generic title ("Editorial", "Erratum", "Meeting report") corroborates nothing by itself: the
  pages must agree too, or the identifier must be shared by just these two records;
- nothing conflicts: not different pages of one volume, not different issues, not years more
  than one apart, not a notice (erratum, reply) beside the article it is about.

When the records sharing an identifier do not all corroborate each other, the identifier belongs
to a container (a supplement issue, a book, a proceedings volume) and is not used to merge any
of them; the title rules still compare them as if they had no identifier. Two records that share
an identifier but nothing else go to the review queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from ..models import (
    IDENTIFIER_EXTRA_KEYS,
    normalize_arxiv,
    normalize_pmcid,
    normalize_pmid,
    normalize_scopus_eid,
    normalize_wos_ut,
)
from .match import pages_agree, title_similarity
from .normalize import Features, normalize_isbn, normalize_openalex, normalize_text

#: identifier kinds, in the order their merges are logged
KINDS = ("doi", "pmid", "pmcid", "arxiv", "openalex", "scopus_eid", "wos_ut", "isbn", "source_id")
#: more records than this sharing one identifier: a container, without comparing them all
MAX_GROUP = 200

_EXTRA_NORMALISERS = {
    "pmcid": normalize_pmcid,
    "arxiv": normalize_arxiv,
    "scopus_eid": normalize_scopus_eid,
    "wos_ut": normalize_wos_ut,
}


def record_ids(row: dict[str, Any], f: Features) -> dict[str, str]:
    """kind -> normalised identifier of one record row (columns, ``extra`` JSON, the URL, and a
    source record id that is a Scopus EID or WoS UT: the same record exported twice)."""
    out: dict[str, str] = {}
    if f.doi:
        out["doi"] = f.doi
    pmid = f.pmid or normalize_pmid(row.get("url")) or ""
    if pmid:
        out["pmid"] = pmid
    extra = row.get("extra")
    if isinstance(extra, str) and extra.startswith("{"):
        try:
            extra = json.loads(extra)
        except ValueError:
            extra = None
    if isinstance(extra, dict):
        for key in IDENTIFIER_EXTRA_KEYS:
            value = _EXTRA_NORMALISERS[key](extra.get(key))
            if value:
                out[key] = value
    for text in (f.doi, row.get("url")):
        if "arxiv" not in out and text:
            arxiv = normalize_arxiv(text)
            if arxiv:
                out["arxiv"] = arxiv
    if "pmcid" not in out and row.get("url") and "pmc" in str(row["url"]).lower():
        pmcid = normalize_pmcid(row["url"])
        if pmcid:
            out["pmcid"] = pmcid
    srid = str(row.get("source_record_id") or "")
    if "scopus_eid" not in out and "2-s2.0-" in srid:
        out["scopus_eid"] = normalize_scopus_eid(srid) or ""
    if "wos_ut" not in out and srid[:4].upper() == "WOS:":
        out["wos_ut"] = normalize_wos_ut(srid) or ""
    out = {k: v for k, v in out.items() if v}
    oa = normalize_openalex(row.get("openalex_id"))
    if oa:
        out["openalex"] = oa
    isbn = normalize_isbn(row.get("isbn"))
    if isbn:
        out["isbn"] = isbn
    if srid.strip() and row.get("source"):
        # one database's accession number, listed twice in one export (a revised record): the
        # same record, corroborated by its title like every other identifier
        out["source_id"] = "\x1f".join(
            (str(row["source"]), str(row.get("database") or ""), srid.strip())
        )
    return out


def conflict(a: Features, b: Features) -> bool:
    """Metadata that says two records are different publications, whatever they share."""
    if a.notice != b.notice and not (a.page and a.page == b.page and a.volume == b.volume):
        return True  # 'Erratum: <title>' beside the article itself (on other pages)
    if a.year is not None and b.year is not None and abs(a.year - b.year) > 1:
        return True
    if a.volume and a.volume == b.volume and pages_agree(a.pages, b.pages) is False:
        return True  # different pages of one volume
    if a.issue and b.issue and a.issue != b.issue and a.volume == b.volume:
        return pages_agree(a.pages, b.pages) is None  # pages outrank a (noisy) issue field
    return False


def corroborates(
    a: Features, b: Features, abstract_a: str = "", abstract_b: str = "", *, only_two: bool = False
) -> bool:
    """Does the rest of the record back up an identifier the two records share?

    ``only_two``: no other record carries the identifier (then a generic title with no pages
    on either side may share it: one editorial, exported twice).
    """
    if conflict(a, b):
        return False
    if a.title_weak or b.title_weak:
        page = pages_agree(a.pages, b.pages)
        return a.title == b.title and (page is True or (only_two and page is None))
    t = title_similarity(a.title, b.title)
    if t >= 0.8:
        return True
    if a.other_language or b.other_language:
        if abstract_a and abstract_b:
            na, nb = normalize_text(abstract_a)[:600], normalize_text(abstract_b)[:600]
            if na and nb and fuzz.ratio(na, nb) >= 80:
                return True
        first = bool(a.authors and b.authors) and a.authors[0] == b.authors[0]
        return bool(a.volume and a.volume == b.volume and a.page and a.page == b.page and first)
    return False


@dataclass
class IdentifierPlan:
    """What shared identifiers say: pairs to merge (rule = identifier kind), pairs to queue, and
    the container identifiers that must not be used as evidence at all."""

    merges: list[tuple[int, int, str]] = field(default_factory=list)
    queue: list[tuple[int, int, str]] = field(default_factory=list)
    containers: dict[str, set[str]] = field(default_factory=dict)


def _clusters(members: Sequence[int], linked: Iterable[tuple[int, int]]) -> list[list[int]]:
    parent = {m: m for m in members}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in linked:
        parent[find(x)] = find(y)
    out: dict[int, list[int]] = {}
    for m in members:
        out.setdefault(find(m), []).append(m)
    return list(out.values())


def plan_identifiers(
    ids: dict[int, dict[str, str]],
    feats: dict[int, Features],
    abstracts: dict[int, str],
    same_work: dict[int, int],
) -> IdentifierPlan:
    """Group records by each identifier and decide, per identifier, merge / queue / container.

    ``same_work`` maps record id -> current work id: records already in one work count as one.
    """
    index: dict[tuple[str, str], list[int]] = {}
    for rid, kinds in ids.items():
        for kind, value in kinds.items():
            index.setdefault((kind, value), []).append(rid)
    out = IdentifierPlan()
    order = {k: i for i, k in enumerate(KINDS)}
    for (kind, value), rids in sorted(index.items(), key=lambda kv: order[kv[0][0]]):
        if len({same_work[r] for r in rids}) < 2:
            continue
        if len(rids) > MAX_GROUP:
            out.containers.setdefault(kind, set()).add(value)
            continue
        linked = []
        for i, x in enumerate(rids):
            for y in rids[i + 1 :]:
                if same_work[x] == same_work[y] or corroborates(
                    feats[x],
                    feats[y],
                    abstracts.get(x, ""),
                    abstracts.get(y, ""),
                    only_two=len(rids) == 2,
                ):
                    linked.append((x, y))
        if len(_clusters(rids, linked)) == 1:
            out.merges.extend((x, y, kind) for x, y in linked if same_work[x] != same_work[y])
            continue
        if len(rids) == 2 and not conflict(feats[rids[0]], feats[rids[1]]):
            out.queue.append((min(rids), max(rids), kind))  # two records, one id, titles differ
        out.containers.setdefault(kind, set()).add(value)
    return out
