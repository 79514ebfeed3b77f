"""Export the active works as CSV, RIS or BibTeX (optionally only those with a screening decision),
or one row per record with its provenance (``records=True``).

A work-level row names every record once, in record order: ``source``, ``source_record_id`` and
``database`` are aligned lists joined by ``"; "`` (an empty slot where a record has no id), so a
merged work's third source goes with its third id. Every list column uses the same ``"; "``.
CSV cells a spreadsheet would execute (leading ``=``, ``+``, ``-``, ``@``) get a ``'`` unless raw.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..errors import ReviewError
from ..models import OUTCOMES
from ..store.workspace import Workspace
from .export_formats import to_bib, to_ris

EXPORT_FORMATS = ("csv", "ris", "bib")
SEP = "; "  # one separator for every list column (authors, keywords, sources, ids, countries)
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
    # added with the round-trip exports (columns are only ever added):
    "volume",
    "issue",
    "pages",
    "issn",
    "isbn",
    "pmid",
    "database",
    "publisher",
    "series",
    "pmcid",
)
RECORD_COLUMNS = (
    "record_id",
    "work_id",
    "source",
    "source_record_id",
    "database",
    "arm",
    "search_id",
    "file_name",
    "title",
    "year",
    "doi",
    "pmid",
)
# Record-level fields a work takes from its first record that has them (works lack columns).
_RECORD_FIELDS = ("volume", "issue", "pages", "issn", "isbn", "pmid")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _json_list(value: str | None) -> list[str]:
    if not value:
        return []
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return [value]
    return [str(v) for v in data] if isinstance(data, list) else [str(data)]


def _json_dict(value: str | None) -> dict[str, Any]:
    try:
        data = json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


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


def _first(recs: list[dict[str, Any]], key: str) -> Any:
    return next((r[key] for r in recs if r.get(key) not in (None, "")), None)


def export_rows(
    ws: Workspace, stage: str | None = None, decision: str | None = None
) -> list[dict[str, Any]]:
    """One dict per active work (CSV_COLUMNS plus lists ``authors_list``, ``keywords_list``,
    ``records`` (the work's records in order) and ``extra`` (the first record's extra fields))."""
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
        "SELECT id, work_id, source, source_record_id, database, affiliation_countries, keywords,"
        f" extra, {', '.join(_RECORD_FIELDS)} FROM records ORDER BY id"
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
        extra = next((e for r in recs if (e := _json_dict(r["extra"]))), {})
        row: dict[str, Any] = {
            "work_id": w["id"],
            "source": SEP.join(r["source"] or "" for r in recs),
            "source_record_id": SEP.join(r["source_record_id"] or "" for r in recs),
            "title": w["title"],
            "abstract": w["abstract"],
            "authors": SEP.join(authors),
            "year": w["year"],
            "doi": w["doi"],
            "venue": w["venue"],
            "countries": SEP.join(countries),
            "record_type": w["record_type"],
            "language": w["language"],
            "url": w["url"],
            "keywords": SEP.join(keywords),
            "decision": d["decision"] if d else None,
            "database": SEP.join(r["database"] or "" for r in recs)
            if any(r["database"] for r in recs)
            else None,
            "publisher": extra.get("publisher"),
            "series": extra.get("series"),
            "pmcid": extra.get("pmcid"),
            "authors_list": authors,
            "keywords_list": keywords,
            "records": recs,
            "extra": extra,
        }
        row.update({k: _first(recs, k) for k in _RECORD_FIELDS})
        rows.append(row)
    return rows


def record_rows(ws: Workspace) -> list[dict[str, Any]]:
    """One row per record: where it came from (source, its id there, database, search, file)
    and the work it belongs to now (the surviving work after merges)."""
    return list(
        ws.db.query(
            """SELECT r.id AS record_id, COALESCE(w.merged_into, r.work_id) AS work_id,
                      r.source, r.source_record_id, r.database, r.arm, r.search_id,
                      s.file_name, r.title, r.year, r.doi, r.pmid
               FROM records r LEFT JOIN searches s ON s.id = r.search_id
               LEFT JOIN works w ON w.id = r.work_id ORDER BY r.id"""
        )
    )


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert with a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(
    rows: list[dict[str, Any]], columns: tuple[str, ...] = CSV_COLUMNS, *, raw: bool = False
) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow(row if raw else {k: neutralise(row.get(k)) for k in columns})
    return buf.getvalue()


def export(
    ws: Workspace,
    fmt: str = "csv",
    *,
    stage: str | None = None,
    decision: str | None = None,
    output: str | Path | None = None,
    records: bool = False,
    raw: bool = False,
) -> tuple[str, int]:
    """Render the works (or with ``records`` every record's provenance, CSV only) in ``fmt``;
    write to ``output`` if given. Returns (text, number of rows)."""
    if fmt not in EXPORT_FORMATS:
        raise ReviewError(
            f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}"
        )
    if records:
        if fmt != "csv" or stage or decision:
            raise ReviewError("--records exports every record as CSV (no --format/--decision)")
        rows = record_rows(ws)
        text = to_csv(rows, RECORD_COLUMNS, raw=raw)
    else:
        rows = export_rows(ws, stage=stage, decision=decision)
        text = to_csv(rows, raw=raw) if fmt == "csv" else {"ris": to_ris, "bib": to_bib}[fmt](rows)
    if output is not None:
        p = Path(output)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        except OSError as e:
            raise ReviewError(f"cannot write export ({e.strerror or e})", path=str(p)) from e
    return text, len(rows)
