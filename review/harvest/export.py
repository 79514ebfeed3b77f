"""Export the active works as CSV, RIS or BibTeX (optionally only those with a screening decision).

Each row is one work with the sources and source ids of all its records (joined by ';'), so
users can join results back to their own files.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from ..errors import ReviewError
from ..models import OUTCOMES
from ..store.workspace import Workspace

EXPORT_FORMATS = ("csv", "ris", "bib")
CSV_COLUMNS = (
    "work_id",
    "source",
    "source_record_id",
    "title",
    "abstract",
    "authors",
    "year",
    "doi",
    "venue",
    "countries",
    "record_type",
    "language",
    "url",
    "keywords",
    "decision",
)


def _json_list(value: str | None) -> list[str]:
    if not value:
        return []
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return [value]
    return [str(v) for v in data] if isinstance(data, list) else [str(data)]


def _work_countries(ws: Workspace) -> dict[int, list[str]]:
    """Current countries per work from the work_countries log (add/remove in order)."""
    out: dict[int, dict[str, None]] = {}
    if "work_countries" not in ws.db.table_names():
        return {}
    for work_id, country, action in ws.db.execute(
        "SELECT work_id, country, action FROM work_countries ORDER BY id"
    ):
        cs = out.setdefault(work_id, {})
        if action == "remove":
            cs.pop(country, None)
        else:
            cs[country] = None
    return {w: list(cs) for w, cs in out.items()}


def export_rows(
    ws: Workspace, stage: str | None = None, decision: str | None = None
) -> list[dict[str, Any]]:
    """One dict per active work (CSV_COLUMNS plus lists ``authors_list``, ``keywords_list``)."""
    from ..store.decisions import resolved_decisions

    if decision is not None and decision not in OUTCOMES:
        raise ReviewError(f"unknown decision {decision!r}; expected one of {', '.join(OUTCOMES)}")
    if decision is not None and stage is None:
        proto = ws.protocol()
        stages = getattr(proto, "stages", None) if proto else None
        stage = stages[0] if stages and isinstance(stages[0], str) else "title-abstract"
    decided = resolved_decisions(ws, stage) if stage else {}
    records: dict[int, list[dict[str, Any]]] = {}
    for r in ws.db.query(
        "SELECT work_id, source, source_record_id, affiliation_countries, keywords FROM records"
        " ORDER BY id"
    ):
        records.setdefault(r["work_id"], []).append(r)
    wc = _work_countries(ws)
    rows = []
    for w in ws.db.query("SELECT * FROM works WHERE active = 1 ORDER BY id"):
        d = decided.get(w["id"])
        if stage is not None and (
            d is None or (decision is not None and d["decision"] != decision)
        ):
            continue
        recs = records.get(w["id"], [])
        countries = dict.fromkeys(c for r in recs for c in _json_list(r["affiliation_countries"]))
        countries.update(dict.fromkeys(wc.get(w["id"], [])))
        keywords = list(dict.fromkeys(k for r in recs for k in _json_list(r["keywords"])))
        authors = _json_list(w["authors"])
        rows.append(
            {
                "work_id": w["id"],
                "source": ";".join(dict.fromkeys(r["source"] for r in recs)),
                "source_record_id": ";".join(
                    r["source_record_id"] for r in recs if r["source_record_id"]
                ),
                "title": w["title"],
                "abstract": w["abstract"],
                "authors": "; ".join(authors),
                "year": w["year"],
                "doi": w["doi"],
                "venue": w["venue"],
                "countries": ";".join(countries),
                "record_type": w["record_type"],
                "language": w["language"],
                "url": w["url"],
                "keywords": "; ".join(keywords),
                "decision": d["decision"] if d else None,
                "authors_list": authors,
                "keywords_list": keywords,
            }
        )
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(
        buf, fieldnames=list(CSV_COLUMNS), extrasaction="ignore", lineterminator="\n"
    )
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


_RIS_TYPES = {
    "journal-article": "JOUR",
    "article": "JOUR",
    "book": "BOOK",
    "book-chapter": "CHAP",
    "proceedings-article": "CONF",
    "inproceedings": "CONF",
    "dissertation": "THES",
    "report": "RPRT",
    "preprint": "JOUR",
    "review": "JOUR",
}
_BIB_TYPES = {
    "JOUR": "article",
    "BOOK": "book",
    "CHAP": "incollection",
    "CONF": "inproceedings",
    "THES": "phdthesis",
    "RPRT": "techreport",
}


def _ris_type(record_type: str | None) -> str:
    rt = (record_type or "").strip()
    if re.fullmatch(r"[A-Z]{2,5}", rt):
        return rt
    return _RIS_TYPES.get(rt.lower(), "GEN")


def to_ris(rows: list[dict[str, Any]]) -> str:
    import rispy

    entries = []
    for r in rows:
        e: dict[str, Any] = {
            "type_of_reference": _ris_type(r["record_type"]),
            "id": str(r["work_id"]),
        }
        if r["title"]:
            e["title"] = r["title"]
        if r["authors_list"]:
            e["authors"] = r["authors_list"]
        if r["year"]:
            e["year"] = str(r["year"])
        for key, col in (
            ("doi", "doi"),
            ("abstract", "abstract"),
            ("secondary_title", "venue"),
            ("language", "language"),
        ):
            if r[col]:
                e[key] = str(r[col]).replace("\n", " ")
        if r["url"]:
            e["urls"] = [r["url"]]
        if r["keywords_list"]:
            e["keywords"] = r["keywords_list"]
        entries.append(e)
    return rispy.dumps(entries)


def _bib_escape(value: Any) -> str:
    text = str(value).replace("\n", " ")
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


def to_bib(rows: list[dict[str, Any]]) -> str:
    out = []
    for r in rows:
        kind = _BIB_TYPES.get(_ris_type(r["record_type"]), "misc")
        fields: list[tuple[str, Any]] = [
            ("title", r["title"]),
            ("author", " and ".join(r["authors_list"]) if r["authors_list"] else None),
            ("year", r["year"]),
            (
                "journal"
                if kind == "article"
                else "booktitle"
                if kind != "misc"
                else "howpublished",
                r["venue"],
            ),
            ("doi", r["doi"]),
            ("url", r["url"]),
            ("abstract", r["abstract"]),
            ("keywords", ", ".join(r["keywords_list"]) if r["keywords_list"] else None),
            ("language", r["language"]),
        ]
        body = ",\n".join(
            f"  {k} = {{{v if k in {'doi', 'url'} else _bib_escape(v)}}}"
            for k, v in fields
            if v not in (None, "")
        )
        out.append(f"@{kind}{{work{r['work_id']},\n{body}\n}}\n")
    return "\n".join(out)


def export(
    ws: Workspace,
    fmt: str = "csv",
    *,
    stage: str | None = None,
    decision: str | None = None,
    output: str | Path | None = None,
) -> tuple[str, int]:
    """Render the works in ``fmt``; write to ``output`` if given. Returns (text, number of works)."""
    if fmt not in EXPORT_FORMATS:
        raise ReviewError(
            f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}"
        )
    rows = export_rows(ws, stage=stage, decision=decision)
    text = {"csv": to_csv, "ris": to_ris, "bib": to_bib}[fmt](rows)
    if output is not None:
        p = Path(output)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        except OSError as e:
            raise ReviewError(f"cannot write export ({e.strerror or e})", path=str(p)) from e
    return text, len(rows)
