"""Labelled dedup sets beyond the four Rathbone sets, for ``benchmarks/dedup.py``.

Each loader returns ``LabelledSet(name, records, gold, either)``: records (their
``source_record_id`` unique within the set), gold duplicate pairs of those ids, and pairs where
merging or not are both accepted (a preprint and its journal version).

- traps (tests/data/dedup_traps, built by ``make_traps.py`` there): supplement DOI, editorials,
  book ISBN, preprints, translated titles;
- special_cases (../shared/data/dedup/special_cases, bib-dedupe's hard cases);
- colrev_dedupe (../shared/data/formats/colrev/tests/data/dedupe): CoLRev's own dedupe test,
  the gold read from ``colrev_origin`` of ``records_expected.bib``;
- reflib_ris_nbib: one EndNote library exported as RIS and as PubMed MEDLINE, both read by our
  importer (two sources); gold = the RIS record and the MEDLINE record of one PubMed id
  (the library's own link: RIS ``AN`` is the PMID);
- reflib_ris_xml: the same library as RIS and as EndNote XML; gold = same EndNote record number.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from review.dedup.labelled import csv_records, gold_pairs, queue_pairs
from review.models import Record

ROOT = Path(__file__).resolve().parent.parent
TRAPS = ROOT / "tests" / "data" / "dedup_traps"
TRAP_SETS = ("supplement_doi", "editorials", "book_isbn", "preprints", "translated")
EXPORT_SETS = ("special_cases", "colrev_dedupe", "reflib_ris_nbib", "reflib_ris_xml")


@dataclass
class LabelledSet:
    name: str
    records: list[Record]
    gold: set[frozenset[str]]
    either: set[frozenset[str]] = field(default_factory=set)


def trap(name: str) -> LabelledSet:
    folder = TRAPS / name
    return LabelledSet(
        name,
        csv_records(folder / "records_pre_merged.csv"),
        gold_pairs(folder / "merged_record_ids.csv"),
        queue_pairs(folder / "queue_pairs.csv"),
    )


def special_cases(shared: Path) -> LabelledSet:
    folder = shared / "dedup" / "special_cases"
    return LabelledSet(
        "special_cases",
        csv_records(folder / "records_pre_merged.csv"),
        gold_pairs(folder / "merged_record_ids.csv"),
    )


def _origins(text: str) -> dict[str, list[str]]:
    """BibTeX entry ID -> its colrev_origin list (CoLRev's provenance of merged records)."""
    out: dict[str, list[str]] = {}
    for m in re.finditer(r"@\w+\{([^,]+),(.*?)\n\}", text, re.DOTALL):
        o = re.search(r"colrev_origin\s*=\s*\{([^}]*)\}", m.group(2))
        out[m.group(1).strip()] = [
            x.strip() for x in (o.group(1) if o else "").split(";") if x.strip()
        ]
    return out


def colrev_dedupe(shared: Path) -> LabelledSet:
    from review.harvest.files import read_file

    folder = shared / "formats" / "colrev" / "tests" / "data" / "dedupe"
    records = read_file(folder / "records.bib")
    before = _origins((folder / "records.bib").read_text(encoding="utf-8"))
    after = _origins((folder / "records_expected.bib").read_text(encoding="utf-8"))
    home = {o: eid for eid, origins in after.items() for o in origins}
    groups: dict[str, list[str]] = {}
    for rid, origins in before.items():
        targets = {home[o] for o in origins if o in home}
        if len(targets) == 1:
            groups.setdefault(targets.pop(), []).append(rid)
    gold = {frozenset(p) for g in groups.values() for p in itertools.combinations(sorted(g), 2)}
    return LabelledSet("colrev_dedupe", records, gold)


def _ris_id(raw: object) -> str | None:
    """The EndNote record number a RIS record carries in its ``ID`` tag."""
    if not isinstance(raw, dict):
        return None
    value = raw.get("ID") or raw.get("id")
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value).strip() if value else None


def reflib(shared: Path, other: str) -> LabelledSet:
    """The blue-light library as RIS plus as MEDLINE ('nbib') or EndNote XML ('xml')."""
    from review.harvest.files import read_file

    folder = shared / "formats" / "reflib"
    ris = read_file(folder / "blue-light.ris")
    second = read_file(folder / f"blue-light.{other}")
    if other == "nbib":
        key_a = {r.pmid: f"ris:{k}" for k, r in enumerate(ris) if r.pmid}
        key_b = {r.pmid: f"{other}:{k}" for k, r in enumerate(second) if r.pmid}
    else:
        key_a = {_ris_id(r.raw): f"ris:{k}" for k, r in enumerate(ris)}
        key_b = {r.source_record_id: f"{other}:{k}" for k, r in enumerate(second)}
    records = [replace(r, source_record_id=f"ris:{k}") for k, r in enumerate(ris)]
    records += [replace(r, source_record_id=f"{other}:{k}") for k, r in enumerate(second)]
    gold = {frozenset((key_a[k], key_b[k])) for k in key_a.keys() & key_b.keys()}
    return LabelledSet(f"reflib_ris_{other}", records, gold)


def load(name: str, shared: Path) -> LabelledSet:
    if name in TRAP_SETS:
        return trap(name)
    if name == "special_cases":
        return special_cases(shared)
    if name == "colrev_dedupe":
        return colrev_dedupe(shared)
    if name.startswith("reflib_ris_"):
        return reflib(shared, name.rsplit("_", 1)[1])
    raise KeyError(name)
