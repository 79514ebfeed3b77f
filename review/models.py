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
_DOI_TAIL = ".,;:]}>\"'"


def normalize_doi(value: str | None) -> str | None:
    """Return a DOI as ``10.xxxx/yyyy`` in lower case, or None if there is none.

    Accepts ``doi:`` and ``https://doi.org/`` prefixes, URL encoding as Ovid exports keep it
    (``10.1016/0376-8716%2876%2990010-7`` -> ``10.1016/0376-8716(76)90010-7``) and trailing
    punctuation (a closing bracket is dropped only when the DOI has no matching opening one).
    """
    if not value:
        return None
    text = str(value).strip()
    if "%" in text:
        from urllib.parse import unquote

        text = unquote(text)
    if "&" in text:
        import html

        text = html.unescape(text)
    m = _DOI_RE.search(text)
    if not m:
        return None
    doi = m.group(0)
    while doi and (doi[-1] in _DOI_TAIL or (doi[-1] == ")" and doi.count("(") < doi.count(")"))):
        doi = doi[:-1]
    return doi.lower() or None


_PUBMED_LINK_RE = re.compile(
    r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/|/pubmed/|info:pmid/)(\d{1,8})\b",
    re.IGNORECASE,
)
_PMID_RE = re.compile(r"^\s*(?:pmid|pubmed|medline)?\s*(?:id)?\s*[:=]?\s*(\d{1,8})\s*$", re.I)
_MEDLINE_DB_RE = re.compile(r"medline|pubmed|\bnlm\b", re.IGNORECASE)


def normalize_pmid(value: str | int | None) -> str | None:
    """A PubMed id (1-8 digits, no leading zeros) from ``123``, ``PMID: 123`` or a PubMed link."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    m = _PUBMED_LINK_RE.search(text) or _PMID_RE.match(text)
    if not m:
        return None
    return m.group(1).lstrip("0") or None


def pmid_from_accession(accession: str | None, database: str | None) -> str | None:
    """The PMID an accession number stands for, when the database is MEDLINE/PubMed.

    Ovid MEDLINE and PubMed exports put the PMID in the accession number (RIS ``AN``, Ovid
    ``UI``); Embase, PsycINFO or CINAHL accession numbers are their own and give None. A value
    that says what it is (``PMID: 123``, ``MEDLINE:123``, a PubMed link) needs no database.
    """
    if not accession:
        return None
    text = str(accession).strip()
    if _PUBMED_LINK_RE.search(text) or re.match(r"^\s*(pmid|medline|pubmed)\b", text, re.I):
        return normalize_pmid(text)
    if database and _MEDLINE_DB_RE.search(database) and re.fullmatch(r"\d{1,8}", text):
        return normalize_pmid(text)
    return None


def normalize_pmcid(value: str | None) -> str | None:
    """``PMC5887696`` from ``pmc5887696``, ``PMCID: PMC5887696`` or a PMC link."""
    m = re.search(r"\bPMC\s*(\d{4,9})\b", str(value or ""), re.IGNORECASE)
    return f"PMC{m.group(1)}" if m else None


_ARXIV_RE = re.compile(
    r"(?:arxiv[:./]\s*|arxiv\.org/(?:abs|pdf)/)?"
    r"(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?",
    re.IGNORECASE,
)


def normalize_arxiv(value: str | None) -> str | None:
    """An arXiv id without its version: ``arXiv:2101.00001v2``, an arxiv.org link or the
    DataCite DOI ``10.48550/arXiv.2101.00001`` -> ``2101.00001``; old style ``hep-th/9901001``."""
    text = str(value or "").strip()
    if not text or ("arxiv" not in text.lower() and not re.match(r"^\d{4}\.\d{4,5}", text)):
        return None
    m = _ARXIV_RE.search(text)
    return m.group(1).lower() if m else None


def normalize_scopus_eid(value: str | None) -> str | None:
    """A Scopus EID (``2-s2.0-85012345678``): one record's identity within Scopus."""
    m = re.search(r"\b2-s2\.0-(\d{6,15})\b", str(value or ""))
    return f"2-s2.0-{m.group(1)}" if m else None


def normalize_wos_ut(value: str | None) -> str | None:
    """A Web of Science UT (``WOS:000123456700001``): one record's identity within WoS."""
    m = re.search(r"\b(?:WOS:)?(\d{15})\b", str(value or ""), re.IGNORECASE)
    return f"WOS:{m.group(1)}" if m else None


#: ``Record.extra`` keys that hold further identifiers (values normalised by the functions above);
#: dedup compares them like DOIs: a shared one merges only when the titles agree
IDENTIFIER_EXTRA_KEYS: tuple[str, ...] = ("pmcid", "arxiv", "scopus_eid", "wos_ut")


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
