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
  (the library's own link, read from the files: RIS ``AN`` is the PMID);
- reflib_ris_xml: the same library as RIS and as EndNote XML; gold = same EndNote record number
  (read from the files: RIS ``ID``, XML ``rec-number``).
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


def _record_numbers(path: Path, tag: str = "ID") -> list[str | None]:
    """EndNote record numbers in file order, read from the file itself (not from our parser's
    mapping, which may prefer another id): RIS ``ID`` lines, EndNote XML ``rec-number``."""
    if path.suffix == ".xml":
        import xml.etree.ElementTree as ET

        return [
            (rec.findtext("rec-number") or "").strip() or None
            for rec in ET.parse(path).getroot().iter("record")
        ]
    out: list[str | None] = []
    current: str | None = None
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if line.startswith(f"{tag}  - "):
            current = line[6:].strip()
        elif line.startswith("ER  -"):
            out.append(current)
            current = None
    return out


def reflib(shared: Path, other: str) -> LabelledSet:
    """The blue-light library as RIS plus as MEDLINE ('nbib') or EndNote XML ('xml')."""
    from review.harvest.files import read_file

    folder = shared / "formats" / "reflib"
    ris = read_file(folder / "blue-light.ris")
    second = read_file(folder / f"blue-light.{other}")
    if other == "nbib":  # PubMed ids read from the files: RIS ``AN`` lines, MEDLINE ``PMID-``
        text = (folder / "blue-light.nbib").read_text(encoding="utf-8-sig")
        pmids = re.findall(r"^PMID- (\d+)", text, re.MULTILINE)
        ans = _record_numbers(folder / "blue-light.ris", tag="AN")
        assert len(pmids) == len(second) and len(ans) == len(ris), "record count mismatch"
        key_a = {n: f"ris:{k}" for k, n in enumerate(ans) if n}
        key_b = {n: f"{other}:{k}" for k, n in enumerate(pmids)}
    else:
        nums_a, nums_b = (
            _record_numbers(folder / "blue-light.ris"),
            _record_numbers(folder / f"blue-light.{other}"),
        )
        assert len(nums_a) == len(ris) and len(nums_b) == len(second), "record count mismatch"
        key_a = {n: f"ris:{k}" for k, n in enumerate(nums_a) if n}
        key_b = {n: f"{other}:{k}" for k, n in enumerate(nums_b) if n}
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
