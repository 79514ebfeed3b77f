"""Labelled duplicate sets (for tests and ``benchmarks/dedup.py``) and pairwise metrics.

Reads the bib-dedupe layout (``records_pre_merged.csv`` + ``merged_record_ids.csv``) and EndNote
XML exports whose duplicates carry ``<caption>Duplicate</caption>`` (dedupe-sweep). Not the import
feature: ``review import`` reads real vendor files; this maps the benchmark columns and nothing more.
"""

from __future__ import annotations

import csv
import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from ..models import Record
from .normalize import split_authors


def csv_records(path: Path, limit: int | None = None) -> list[Record]:
    """records_pre_merged.csv rows (ID,title,year,author,pages,volume,number,ENTRYTYPE,journal;
    the trap sets in tests/data/dedup_traps add doi, isbn, pmid, arxiv, language, abstract)."""
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in itertools.islice(csv.DictReader(fh), limit):
            year = (row.get("year") or "").strip()
            out.append(
                Record(
                    title=row.get("title") or None,
                    abstract=row.get("abstract") or None,
                    authors=tuple(split_authors(row.get("author"))),
                    year=int(year) if year.isdigit() else None,
                    doi=row.get("doi") or None,
                    pmid=row.get("pmid") or None,
                    isbn=row.get("isbn") or None,
                    language=row.get("language") or None,
                    extra={"arxiv": row["arxiv"]} if row.get("arxiv") else {},
                    venue=row.get("journal") or row.get("booktitle") or None,
                    volume=row.get("volume") or None,
                    issue=row.get("number") or row.get("issue") or None,
                    pages=row.get("pages") or None,
                    record_type=row.get("ENTRYTYPE") or None,
                    source_record_id=row["ID"],
                    raw=dict(row),
                    raw_format="csv",
                )
            )
    return out


def gold_pairs(path: Path, ids: set[str] | None = None) -> set[frozenset[str]]:
    """merged_record_ids.csv -> every duplicate pair (restricted to ``ids`` if given)."""
    pairs: set[frozenset[str]] = set()
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            group = [i for i in row["merged_ids"].split(";") if ids is None or i in ids]
            pairs.update(frozenset(p) for p in itertools.combinations(group, 2))
    return pairs


def queue_pairs(path: Path) -> set[frozenset[str]]:
    """queue_pairs.csv (record_a,record_b): pairs a reviewer should see; merging them or leaving
    them apart are both accepted (a preprint and its journal version). Empty if absent."""
    if not path.exists():
        return set()
    with open(path, newline="", encoding="utf-8") as fh:
        return {frozenset((r["record_a"], r["record_b"])) for r in csv.DictReader(fh)}


def _text(el: ET.Element | None) -> str | None:
    if el is None:
        return None
    text = "".join(el.itertext()).strip()
    return text or None


def endnote_records(path: Path) -> tuple[list[Record], set[str]]:
    """EndNote XML records and the ids (rec-number) flagged Duplicate."""
    root = ET.parse(path).getroot()
    out: list[Record] = []
    flagged: set[str] = set()
    for rec in root.iter("record"):
        rid = _text(rec.find("rec-number")) or str(len(out) + 1)
        if _text(rec.find("caption")) == "Duplicate":
            flagged.add(rid)
        year = _text(rec.find("dates/year")) or ""
        out.append(
            Record(
                title=_text(rec.find("titles/title")),
                abstract=_text(rec.find("abstract")),
                authors=tuple(
                    a for a in (_text(x) for x in rec.findall("contributors/authors/author")) if a
                ),
                year=int(year[:4]) if year[:4].isdigit() else None,
                doi=_text(rec.find("electronic-resource-num")),
                isbn=_text(rec.find("isbn")),
                venue=_text(rec.find("titles/secondary-title"))
                or _text(rec.find("periodical/full-title")),
                volume=_text(rec.find("volume")),
                issue=_text(rec.find("number")),
                pages=_text(rec.find("pages")),
                record_type=_text(rec.find("ref-type")),
                source_record_id=rid,
                raw_format="endnote-xml",
            )
        )
    return out, flagged


def group_pairs(groups: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    pairs: set[frozenset[str]] = set()
    for g in groups:
        pairs.update(frozenset(p) for p in itertools.combinations(sorted(g), 2))
    return pairs


def pair_metrics(
    predicted: set[frozenset[str]], gold: set[frozenset[str]], n_records: int
) -> dict[str, float]:
    """Pairwise sensitivity, false positives, specificity, precision and F1."""
    tp = len(predicted & gold)
    fp = len(predicted - gold)
    fn = len(gold - predicted)
    total = n_records * (n_records - 1) // 2
    tn = total - tp - fp - fn
    sens = tp / (tp + fn) if tp + fn else 1.0
    prec = tp / (tp + fp) if tp + fp else 1.0
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "sensitivity": sens,
        "specificity": tn / (tn + fp) if tn + fp else 1.0,
        "precision": prec,
        "f1": 2 * prec * sens / (prec + sens) if prec + sens else 0.0,
    }


def flag_metrics(predicted: set[str], flagged: set[str], n_records: int) -> dict[str, float]:
    """Record-level metrics for EndNote sets (a record is in a duplicate group or not)."""
    tp = len(predicted & flagged)
    fp = len(predicted - flagged)
    fn = len(flagged - predicted)
    tn = n_records - tp - fp - fn
    sens = tp / (tp + fn) if tp + fn else 1.0
    prec = tp / (tp + fp) if tp + fp else 1.0
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "sensitivity": sens,
        "specificity": tn / (tn + fp) if tn + fp else 1.0,
        "precision": prec,
        "f1": 2 * prec * sens / (prec + sens) if prec + sens else 0.0,
    }
