"""OpenAlex work JSON -> ``Record``: pure functions, no I/O (used by harvests and imports)."""

from __future__ import annotations

from typing import Any

from ..errors import FormatError
from ..models import Record, normalize_doi

OPENALEX_PREFIX = "https://openalex.org/"


def rebuild_abstract(inverted_index: dict[str, list[int]] | None) -> str | None:
    """The abstract text from OpenAlex's ``abstract_inverted_index`` (word -> positions)."""
    if not inverted_index:
        return None
    try:
        last = max(max(ps) for ps in inverted_index.values() if ps)
    except ValueError:  # no positions at all
        return None
    words = [""] * (last + 1)
    for word, positions in inverted_index.items():
        for p in positions:
            words[p] = word
    if "" in words:  # gaps in the index
        words = [w for w in words if w]
    return " ".join(words) or None


def short_id(openalex_id: str | None) -> str | None:
    """``https://openalex.org/W123`` -> ``W123`` (already short ids pass through)."""
    if not openalex_id:
        return None
    s = str(openalex_id)
    return s[len(OPENALEX_PREFIX) :] if s.startswith(OPENALEX_PREFIX) else s.rsplit("/", 1)[-1]


def _names(items: Any, key: str = "display_name") -> list[str]:
    out: list[str] = []
    if isinstance(items, list):
        for it in items:
            if isinstance(it, dict):
                name = it.get(key)
                if name:
                    out.append(str(name))
    return out


def _authorships(work: dict[str, Any]) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Author names, affiliation country codes (first-seen order) and a compact authorship list."""
    authors: list[str] = []
    countries: list[str] = []
    seen: set[str] = set()
    compact: list[dict[str, Any]] = []
    for a in work.get("authorships") or ():
        if not isinstance(a, dict):
            continue
        author = a.get("author") or {}
        name = author.get("display_name") or a.get("raw_author_name")
        if name:
            authors.append(str(name))
        insts = []
        for inst in a.get("institutions") or ():
            if not isinstance(inst, dict):
                continue
            cc = inst.get("country_code")
            if cc:
                cc = str(cc).upper()
                if cc not in seen:
                    seen.add(cc)
                    countries.append(cc)
            insts.append(
                {"name": inst.get("display_name"), "country_code": cc, "ror": inst.get("ror")}
            )
        for cc in a.get("countries") or ():  # OpenAlex also lists countries from raw affiliations
            if cc and str(cc).upper() not in seen:
                seen.add(str(cc).upper())
                countries.append(str(cc).upper())
        compact.append({"author": name, "orcid": author.get("orcid"), "institutions": insts})
    return authors, countries, compact


def work_to_record(work: dict[str, Any]) -> Record:
    """Map one OpenAlex work (the API's JSON object) to a ``Record``.

    Abstract rebuilt from ``abstract_inverted_index``; authors are display names; affiliation
    countries come from authorships -> institutions -> country_code; ``keywords`` are OpenAlex
    keywords; topics, concepts, MeSH terms and authorships with institutions go to ``extra``.
    ``openalex_id`` is the short W-id, ``source_record_id`` the OpenAlex ID as the API gives it.
    """
    if not isinstance(work, dict) or not work.get("id"):
        raise FormatError("not an OpenAlex work (an object with an 'id' is expected)")
    authors, countries, compact = _authorships(work)
    loc = work.get("primary_location") or {}
    source = loc.get("source") or {}
    doi = normalize_doi(work.get("doi"))
    year = work.get("publication_year")
    primary_topic = work.get("primary_topic") or {}
    extra: dict[str, Any] = {
        "topics": _names(work.get("topics")),
        "primary_topic": primary_topic.get("display_name"),
        "concepts": _names(work.get("concepts")),
        "mesh": _names(work.get("mesh"), "descriptor_name"),
        "authorships": compact,
        "cited_by_count": work.get("cited_by_count"),
        "oa_status": (work.get("open_access") or {}).get("oa_status"),
        "pdf_url": loc.get("pdf_url"),
    }
    biblio = work.get("biblio") or {}
    first, last = biblio.get("first_page"), biblio.get("last_page")
    pages = f"{first}-{last}" if first and last and first != last else (first or None)
    wid = str(work["id"])
    return Record(
        title=work.get("title") or work.get("display_name"),
        abstract=rebuild_abstract(work.get("abstract_inverted_index")),
        authors=tuple(authors),
        year=int(year) if isinstance(year, int) else None,
        doi=doi,
        pmid=short_id((work.get("ids") or {}).get("pmid")),
        openalex_id=short_id(wid),
        venue=source.get("display_name"),
        volume=biblio.get("volume"),
        issue=biblio.get("issue"),
        pages=pages,
        language=work.get("language"),
        record_type=work.get("type"),
        url=(f"https://doi.org/{doi}" if doi else None) or loc.get("landing_page_url") or wid,
        keywords=tuple(_names(work.get("keywords"))),
        affiliation_countries=tuple(countries),
        source_record_id=wid,
        published_date=work.get("publication_date"),
        raw=work,
        raw_format="openalex-json",
        extra=extra,
    )
