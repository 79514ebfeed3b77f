"""Values that cross pipeline stages: small frozen dataclasses, no I/O."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field, fields
from typing import Any, Literal

Arm = Literal["databases", "registers", "other"]
ARMS: tuple[str, ...] = ("databases", "registers", "other")
OUTCOMES: tuple[str, ...] = ("include", "exclude", "maybe")

_DOI_RE = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)


def normalize_doi(value: str | None) -> str | None:
    """Return a DOI as ``10.xxxx/yyyy`` in lower case, or None if there is none."""
    if not value:
        return None
    m = _DOI_RE.search(str(value).strip())
    if not m:
        return None
    return m.group(0).rstrip(".,;)]}>\"'").lower()


_PUNCT = re.compile(r"[^\w\s]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _strip_marks(m: re.Match[str]) -> str:
    return "".join(c for c in m.group() if not unicodedata.combining(c))


def normalize_text(value: str | None) -> str:
    """Lower-case, accent-free, punctuation-free, single-spaced text (for hashing and matching)."""
    if not value:
        return ""
    if not value.isascii():  # NFKD only where it can matter: 5x faster on English abstracts
        value = _NON_ASCII.sub(_strip_marks, unicodedata.normalize("NFKD", value))
    return " ".join(_PUNCT.sub(" ", value.lower()).split())


@dataclass(frozen=True)
class Record:
    """One bibliographic record as it came from one source, already mapped to our fields.

    ``raw`` keeps the source payload (a dict for JSON/CSV/RIS, a string for text formats) so
    records can be re-mapped later; ``source_record_id`` is the id the record had where it came
    from (OpenAlex ID, RIS ``ID``/``AN``, a CSV ``record_id`` column).
    """

    title: str | None
    abstract: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    doi: str | None = None
    pmid: str | None = None
    openalex_id: str | None = None
    isbn: str | None = None
    venue: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    language: str | None = None
    record_type: str | None = None
    url: str | None = None
    keywords: tuple[str, ...] = ()
    affiliation_countries: tuple[str, ...] = ()
    source_record_id: str | None = None
    file_sha256: str | None = None
    published_date: str | None = None
    issn: str | None = None
    database: str | None = None  # the record's own database (Ovid D= code, RIS DB), not the file
    raw: Any = None
    raw_format: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def content_hash(self) -> str:
        """Hash of the normalised title + abstract: the key of the embedding cache."""
        return text_hash(f"{self.title or ''}\n{self.abstract or ''}")

    def to_row(self) -> dict[str, Any]:
        """The ``records`` table row for this record (JSON for lists and raw)."""
        row: dict[str, Any] = {k: getattr(self, k) for k in _ROW_FIELDS}
        row["doi"] = normalize_doi(self.doi) or (self.doi or None)
        for key in ("authors", "keywords", "affiliation_countries"):
            row[key] = json.dumps(list(row[key]), ensure_ascii=False)
        raw = self.raw
        row["raw"] = (
            raw
            if isinstance(raw, str) or raw is None
            else json.dumps(raw, ensure_ascii=False, default=str)
        )
        row["extra"] = (
            json.dumps(self.extra, ensure_ascii=False, default=str) if self.extra else None
        )
        row["content_hash"] = self.content_hash()
        return row


_ROW_FIELDS = tuple(f.name for f in fields(Record) if f.name not in ("raw", "extra"))


def text_hash(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Criterion:
    code: str
    text: str
    kind: Literal["inclusion", "exclusion"]


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # openalex | file | website | organisation | citations | register | database
    arm: str  # databases | registers | other
    search: str | None = None
    filter: dict[str, Any] = field(default_factory=dict)
    url: str | None = None
    path: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Decision:
    work_id: int
    stage: str
    reviewer: str
    decision: str  # include | exclude | maybe | retract
    reason: str | None = None
    note: str | None = None
    id: int | None = None
    created_at: str | None = None
    origin: str | None = None
