"""RIS and BibTeX writers for `review export`: every field our importers read comes back out.

RIS: ``TY`` from the record type (Journal Article -> JOUR, Proceedings Paper -> CONF, ...) with the
vendor's own type kept in ``M3``; ``JF`` (journals) or ``T2`` (books, proceedings) for the venue;
``VL IS SP EP SN DO UR KW LA AB PB CY ET A2 C2``; the first record's vendor id in ``AN`` and
database in ``DB``; custom tags ``U1`` (``PMID:<id>``), ``U2`` (``review work <id>``) and ``U3``
(one ``source | source_record_id | database`` line per record of a merged work).
BibTeX: the matching entry type and ``volume number pages issn isbn pmid doi url keywords language
publisher address edition series editor``, plus the custom fields ``source_record_id``,
``database``, ``source`` and ``record_type`` (the vendor's type).
"""

from __future__ import annotations

import re
from typing import Any

# record_type as vendors write it (lower case) -> RIS type
RIS_TYPES: dict[str, str] = {
    "journal-article": "JOUR",
    "journal article": "JOUR",
    "article": "JOUR",
    "review": "JOUR",
    "letter": "JOUR",
    "editorial": "JOUR",
    "editorial material": "JOUR",
    "note": "JOUR",
    "erratum": "JOUR",
    "early access": "JOUR",
    "preprint": "JOUR",
    "posted-content": "JOUR",
    "book": "BOOK",
    "book-chapter": "CHAP",
    "book chapter": "CHAP",
    "incollection": "CHAP",
    "inbook": "CHAP",
    "proceedings-article": "CONF",
    "proceedings paper": "CONF",
    "conference paper": "CONF",
    "inproceedings": "CONF",
    "conference": "CONF",
    "meeting abstract": "ABST",
    "conference abstract": "ABST",
    "dissertation": "THES",
    "thesis": "THES",
    "phdthesis": "THES",
    "mastersthesis": "THES",
    "report": "RPRT",
    "techreport": "RPRT",
    "misc": "GEN",
    "unpublished": "UNPB",
    "web": "ELEC",
    "webpage": "ELEC",
}
BIB_TYPES: dict[str, str] = {
    "JOUR": "article",
    "ABST": "article",
    "BOOK": "book",
    "CHAP": "incollection",
    "CONF": "inproceedings",
    "CPAPER": "inproceedings",
    "THES": "phdthesis",
    "RPRT": "techreport",
    "UNPB": "unpublished",
}
_RIS_CODE = re.compile(r"[A-Z]{2,6}")
# extra key -> (RIS tag, BibTeX field)
_EXTRA_OUT: dict[str, tuple[str, str]] = {
    "publisher": ("PB", "publisher"),
    "place": ("CY", "address"),
    "edition": ("ET", "edition"),
    "series": ("T3", "series"),
    "editors": ("A2", "editor"),
    "pmcid": ("C2", "pmcid"),
    "institution": ("PB", "institution"),
    "degree": ("M3", "type"),
}


def ris_type(record_type: str | None) -> str:
    """A RIS type for a vendor's type: 'Article; Early Access' -> JOUR, 'Proceedings Paper' ->
    CONF; a RIS code stays; unknown -> GEN."""
    rt = (record_type or "").strip()
    if _RIS_CODE.fullmatch(rt):
        return rt
    for part in [rt.lower(), *(p.strip() for p in re.split(r"[;,/]", rt.lower()))]:
        if part in RIS_TYPES:
            return RIS_TYPES[part]
    return "GEN"


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())


def _pages(pages: str | None) -> tuple[str | None, str | None]:
    if not pages:
        return None, None
    start, _, end = pages.replace("--", "-").partition("-")
    return (start.strip() or None), (end.strip() or None)


def _provenance(row: dict[str, Any]) -> list[str]:
    return [
        " | ".join(str(r.get(k) or "") for k in ("source", "source_record_id", "database"))
        for r in row.get("records", [])
    ]


def ris_lines(row: dict[str, Any]) -> list[str]:
    ty = ris_type(row["record_type"])
    extra = row.get("extra") or {}
    recs = row.get("records") or []
    out: list[tuple[str, Any]] = [("TY", ty)]
    out += [("TI", row["title"])]
    out += [("AU", a) for a in row["authors_list"]]
    out += [("PY", row["year"])]
    out += [("JF" if ty in {"JOUR", "ABST"} else "T2", row["venue"])]
    start, end = _pages(row.get("pages"))
    out += [("VL", row.get("volume")), ("IS", row.get("issue")), ("SP", start), ("EP", end)]
    out += [("SN", row.get("issn")), ("SN", row.get("isbn"))]
    out += [("DO", row["doi"]), ("UR", row["url"])]
    out += [("KW", k) for k in row["keywords_list"]]
    out += [("LA", row["language"]), ("AB", row["abstract"])]
    if row["record_type"] and row["record_type"] != ty:
        out.append(("M3", row["record_type"]))
    elif extra.get("type_detail"):
        out.append(("M3", extra["type_detail"]))
    for key, (tag, _bib) in _EXTRA_OUT.items():
        value = extra.get(key)
        if tag == "M3" or (tag == "PB" and any(t == "PB" for t, _ in out)):
            continue
        out += [(tag, v) for v in (value if isinstance(value, list) else [value])]
    first = recs[0] if recs else {}
    out += [("AN", first.get("source_record_id")), ("DB", first.get("database"))]
    if row.get("pmid"):
        out.append(("U1", f"PMID:{row['pmid']}"))
    out.append(("U2", f"review work {row['work_id']}"))
    if len(recs) > 1:
        out += [("U3", p) for p in _provenance(row)]
    lines = [f"{tag}  - {_one_line(v)}" for tag, v in out if v not in (None, "")]
    return [*lines, "ER  - "]


def to_ris(rows: list[dict[str, Any]]) -> str:
    return "".join("\n".join(ris_lines(r)) + "\n\n" for r in rows)


def _bib_escape(value: Any) -> str:
    text = _one_line(value)
    for a, b in (
        ("\\", "\\textbackslash "),
        ("{", "\\{"),
        ("}", "\\}"),
        ("&", "\\&"),
        ("%", "\\%"),
        ("#", "\\#"),
        ("_", "\\_"),
        ("$", "\\$"),
    ):
        text = text.replace(a, b)
    return text


def _keywords(keywords: list[str]) -> str | None:
    """'; '-joined; a single keyword holding commas ends with ';' so readers keep it whole."""
    if not keywords:
        return None
    text = "; ".join(keywords)
    return text + ";" if len(keywords) == 1 and "," in text else text


def bib_entry(row: dict[str, Any]) -> str:
    ty = ris_type(row["record_type"])
    kind = BIB_TYPES.get(ty, "misc")
    extra = row.get("extra") or {}
    recs = row.get("records") or []
    venue_field = {"article": "journal", "misc": "howpublished", "phdthesis": "school"}
    fields: list[tuple[str, Any]] = [
        ("title", row["title"]),
        ("author", " and ".join(row["authors_list"]) if row["authors_list"] else None),
        ("year", row["year"]),
        (venue_field.get(kind, "booktitle"), row["venue"]),
        ("volume", row.get("volume")),
        ("number", row.get("issue")),
        ("pages", (row.get("pages") or "").replace("-", "--") or None),
        ("issn", row.get("issn")),
        ("isbn", row.get("isbn")),
        ("pmid", row.get("pmid")),
        ("doi", row["doi"]),
        ("url", row["url"]),
        ("abstract", row["abstract"]),
        ("keywords", _keywords(row["keywords_list"])),
        ("language", row["language"]),
    ]
    for key, (_tag, field) in _EXTRA_OUT.items():
        value = extra.get(key)
        if isinstance(value, list):
            value = " and ".join(value)
        if value and all(f != field for f, _ in fields):
            fields.append((field, value))
    first = recs[0] if recs else {}
    fields += [
        ("source_record_id", first.get("source_record_id")),
        ("database", first.get("database")),
        ("source", first.get("source")),
        ("record_type", row["record_type"] if row["record_type"] != kind else None),
    ]
    if len(recs) > 1:
        fields.append(("provenance", "; ".join(_provenance(row))))
    raw_fields = {"doi", "url"}
    body = ",\n".join(
        f"  {k} = {{{_one_line(v) if k in raw_fields else _bib_escape(v)}}}"
        for k, v in fields
        if v not in (None, "")
    )
    return f"@{kind}{{work{row['work_id']},\n{body}\n}}\n"


def to_bib(rows: list[dict[str, Any]]) -> str:
    return "\n".join(bib_entry(r) for r in rows)
