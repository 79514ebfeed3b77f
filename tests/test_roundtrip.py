"""Round trips: import every sample, export CSV, RIS and BibTeX, re-import, compare field by field.

Samples: every file in ../shared/data/formats (skipped when absent) and tests/data/formats.
A record's ``record_type`` is compared as its RIS type family (a vendor's 'Article; Early Access'
leaves as JOUR with the vendor text kept in M3/record_type, and comes back as that type).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, SHARED

from review.errors import FormatError
from review.harvest.export import export
from review.harvest.export_formats import ris_type
from review.harvest.files import import_files, parse_file, read_file
from review.store import init

FIELDS = (
    "title",
    "abstract",
    "authors",
    "year",
    "doi",
    "venue",
    "volume",
    "issue",
    "pages",
    "language",
    "url",
    "keywords",
    "issn",
    "isbn",
    "pmid",
)
_SKIP_SUFFIX = {".md", ""}  # LICENSE files; md = reference lists (no ids to carry)


def _samples() -> list[Path]:
    """Every sample once: ../shared copies of files already in tests/data are skipped."""
    import hashlib

    roots = [DATA / "formats", SHARED / "formats"]
    out, seen = [], set()
    for root in roots:
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            if not p.is_file() or p.suffix.lower() in _SKIP_SUFFIX or p.name == "README.md":
                continue
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                out.append(p)
    return out


SAMPLES = _samples()


def _row(r: dict[str, Any]) -> dict[str, Any]:
    r = {k: r[k] for k in (*FIELDS, "record_type", "source_record_id", "extra")}
    for key in ("authors", "keywords"):
        r[key] = json.loads(r[key] or "[]")
    r["kind"] = ris_type(r.pop("record_type"))
    r["extra"] = json.loads(r["extra"] or "{}")
    return r


def _stored(ws: Any) -> list[dict[str, Any]]:
    return [_row(r) for r in ws.db.query("SELECT * FROM records ORDER BY id")]


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    diffs = [f"{k}: {a[k]!r} -> {b[k]!r}" for k in (*FIELDS, "kind") if a[k] != b[k]]
    if a["source_record_id"] and a["source_record_id"] != b["source_record_id"]:
        diffs.append(f"source_record_id: {a['source_record_id']!r} -> {b['source_record_id']!r}")
    for key in ("publisher", "series", "pmcid"):
        if a["extra"].get(key) and a["extra"].get(key) != b["extra"].get(key):
            diffs.append(f"extra.{key}: {a['extra'].get(key)!r} -> {b['extra'].get(key)!r}")
    return diffs


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_round_trip_is_lossless(sample: Path, tmp_path: Path):
    ws = init(tmp_path / "first.db")
    try:
        try:
            import_files(ws, [sample])
        except FormatError as e:
            pytest.skip(f"{sample.name} is refused by the importer: {e}")
        original = _stored(ws)
        problems = []
        for fmt in ("csv", "ris", "bib"):
            out = tmp_path / f"export.{fmt}"
            export(ws, fmt, output=out)
            back = [_row(rec.to_row()) for rec in read_file(out)]
            assert len(back) == len(original), f"{fmt}: {len(back)} of {len(original)} records"
            for i, (a, b) in enumerate(zip(original, back, strict=True)):
                problems += [f"{fmt} record {i + 1}: {d}" for d in _differences(a, b)]
    finally:
        ws.close()
    assert not problems, "\n".join(problems[:20])


def test_samples_found():
    assert len([p for p in SAMPLES if DATA in p.parents]) >= 40


def _own_count(p: Path) -> int | None:
    """A sample's record count by its own markers, independent of our readers."""
    import csv
    import re

    text = p.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
    suffix = p.suffix.lower()
    if re.match(r"\s*FN ", text):  # Web of Science plain text
        return len(re.findall(r"^ER\s*$", text, re.M))
    if suffix == ".ris":  # some exports forget an ER, others indent a TY: the larger count
        ty = len(re.findall(r"^\s*TY\s{1,3}-", text, re.M))
        return max(ty, len(re.findall(r"^\s*ER\s{1,3}-", text, re.M)))
    if suffix == ".nbib":
        blocks = [b for b in re.split(r"\n\s*\n", text) if re.search(r"^TI\s*-", b, re.M)]
        return len(blocks)
    if suffix == ".bib":
        return len(re.findall(r"^\s*@(?!comment|string|preamble)\w+\s*[{(]", text, re.M | re.I))
    if suffix in {".enl", ".txt"} and re.search(r"^%T ", text, re.M):
        return len(re.findall(r"^%T ", text, re.M))
    if suffix == ".xml":
        return len(re.findall(r"<record>", text))
    if suffix == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
        return sum(1 for r in rows[1:] if any(c.strip() for c in r))
    if suffix == ".json":
        data = json.loads(text)
        if isinstance(data, dict):
            data = data.get("results", data.get("organic_results", []))
        return len(data) if isinstance(data, list) else None
    return None


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_imports_all_its_records(sample: Path):
    expected = _own_count(sample)
    if expected is None:
        pytest.skip("no independent record marker for this format")
    try:
        parsed = parse_file(sample)
    except FormatError as e:
        pytest.skip(f"refused by the importer: {e}")
    assert len(parsed.records) == expected
