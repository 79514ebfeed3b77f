"""Helpers shared by the gray-literature harvesters (PDFs and saved web pages).

The file store: every added file is copied to ``ws.files_dir / "<sha256><suffix>"`` so a record
never points at a path that moves. ``documents`` rows hold the extracted text (and
``document_pages`` one row per page); ``work_countries`` rows hold country tags.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..hashing import sha256_file as sha256_file  # one file hash (the file store, bundles)
from ..store.records import finish_search
from ..store.workspace import Workspace, now
from ..themes.gazetteer import country_code  # noqa: F401  (one gazetteer for page tags and text)

# Names pycountry does not resolve by itself (old names, short forms, Portuguese/French forms).


@contextlib.contextmanager
def logged_batch(ws: Workspace, search_id: int, result: Any) -> Iterator[None]:
    """Close a batch's search-log row: complete, or interrupted (Ctrl-C) / failed, with its counts."""
    status = "complete"
    try:
        yield
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except BaseException:
        status = "failed"
        raise
    finally:
        stored = len(result.added)
        finish_search(
            ws, search_id, records_found=result.found, records_stored=stored, status=status
        )


def store_file(ws: Workspace, path: Path, sha256: str, suffix: str | None = None) -> str:
    """Copy ``path`` into the workspace's file store as ``<sha256><suffix>``; return the relative path.

    Idempotent: a file already stored under its hash is not copied again. The copy is written to a
    temporary name then renamed, so a crash never leaves a half-written file under the final name.
    """
    suffix = (suffix if suffix is not None else path.suffix).lower()
    rel = f"{sha256}{suffix}"
    dest = ws.files_dir / rel
    if dest.exists() and dest.stat().st_size == path.stat().st_size:
        return rel
    ws.files_dir.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    shutil.copyfile(path, tmp)
    tmp.replace(dest)
    return rel


def stored_path(ws: Workspace, rel: str) -> Path:
    """The absolute path of a file in the store from a ``documents.path`` value."""
    return ws.files_dir / rel


def known_sha256(ws: Workspace) -> set[str]:
    """Hashes of every file already attached to a record (documents or records.file_sha256)."""
    rows = ws.db.execute(
        "SELECT sha256 FROM documents WHERE sha256 IS NOT NULL "
        "UNION SELECT file_sha256 FROM records WHERE file_sha256 IS NOT NULL"
    )
    return {r[0] for r in rows}


def insert_document(
    ws: Workspace,
    *,
    record_id: int,
    kind: str,
    path: str | None,
    original_name: str | None,
    sha256: str | None,
    text: str | None,
    pages: Sequence[str] | None = None,
    language: str | None = None,
    meta: dict[str, Any] | None = None,
) -> int:
    """Insert a ``documents`` row (and its ``document_pages``) linked to a record and its work."""
    row = ws.db.execute("SELECT work_id FROM records WHERE id = ?", [record_id]).fetchone()
    work_id = row[0] if row else None
    cur = ws.db.conn.execute(
        "INSERT INTO documents (record_id, work_id, kind, path, original_name, sha256, pages,"
        " language, meta, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            record_id,
            work_id,
            kind,
            path,
            original_name,
            sha256,
            len(pages) if pages is not None else None,
            language,
            json.dumps(meta, ensure_ascii=False, default=str) if meta else None,
            text,
            now(),
        ],
    )
    doc_id = int(cur.lastrowid)  # type: ignore[arg-type]
    if pages:
        ws.db.conn.executemany(
            "INSERT INTO document_pages (document_id, page, text) VALUES (?, ?, ?)",
            [(doc_id, i + 1, t) for i, t in enumerate(pages)],
        )
    return doc_id


def add_work_countries(
    ws: Workspace,
    work_id: int,
    codes: Iterable[str],
    *,
    origin: str = "source-tag",
    kind: str = "study",
    evidence: str | None = None,
) -> None:
    ts = now()
    ws.db.conn.executemany(
        "INSERT INTO work_countries (work_id, country, kind, origin, action, evidence, created_at)"
        " VALUES (?, ?, ?, ?, 'add', ?, ?)",
        [(work_id, c, kind, origin, evidence, ts) for c in dict.fromkeys(codes)],
    )


def detect_language(text: str | None, max_chars: int = 1200) -> str | None:
    """ISO 639-1 language of ``text`` (langdetect, seeded so results are deterministic).

    Only the first ``max_chars`` of the text's longer lines are used: enough for a stable answer,
    and langdetect's cost grows with the length.
    """
    if not text:
        return None
    prose = " ".join(ln for ln in text.splitlines() if len(ln.split()) >= 6) or text
    sample = re.sub(r"\s+", " ", prose).strip()[:max_chars]
    if sum(c.isalpha() for c in sample) < 20:
        return None
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    try:
        lang = str(detect(sample))
    except LangDetectException:
        return None
    return lang.split("-")[0]


_YEAR_RE = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")


def find_year(text: str, *, lo: int = 1950, hi: int = 2049) -> int | None:
    """The most frequent plausible year in ``text`` (ties go to the earliest mention)."""
    counts: dict[int, int] = {}
    for m in _YEAR_RE.finditer(text):
        y = int(m.group(1))
        if lo <= y <= hi:
            counts[y] = counts.get(y, 0) + 1
    if not counts:
        return None
    return max(counts, key=lambda y: counts[y])


_ISBN_RE = re.compile(r"\bISBN(?:-1[03])?:?\s*((?:97[89][-\s]?)?(?:\d[-\s]?){9}[\dXx])\b", re.I)


def find_isbn(text: str) -> str | None:
    """The first valid ISBN-10/13 introduced by ``ISBN`` in ``text``, digits only."""
    for m in _ISBN_RE.finditer(text):
        digits = re.sub(r"[^\dXx]", "", m.group(1)).upper()
        if _isbn_ok(digits):
            return digits
    return None


def _isbn_ok(d: str) -> bool:
    if len(d) == 13 and d.isdigit():
        return sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(d)) % 10 == 0
    if len(d) == 10 and d[:9].isdigit():
        total = sum((10 - i) * int(c) for i, c in enumerate(d[:9]))
        total += 10 if d[9] == "X" else int(d[9]) if d[9].isdigit() else 99
        return total % 11 == 0
    return False


def iter_files(paths: Iterable[str | Path], suffixes: tuple[str, ...]) -> list[Path]:
    """Files named on the command line, plus files with ``suffixes`` inside named folders (sorted;
    README/LICENSE/CHANGELOG files in folders are not documents)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file()
                    and f.suffix.lower() in suffixes
                    and not f.name.upper().startswith(("README", "LICENSE", "CHANGELOG"))
                )
            )
        else:
            out.append(p)
    return list(dict.fromkeys(out))


PLACEHOLDER_YEAR = 1970  # scrapers' epoch default: the date is unknown
_MONTHS = {
    **{m: i + 1 for i, m in enumerate(
        "january february march april may june july august september october november december".split())},
    **{m: i + 1 for i, m in enumerate(
        "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro".split())},
    **{m: i + 1 for i, m in enumerate(
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split())},
    **{m: i + 1 for i, m in enumerate(
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split())},
}  # fmt: skip


def parse_date(value: str | None) -> str | None:
    """``March 3, 2021`` / ``3 DE MARCH DE 2021`` / ``15 septembre 2024`` / ISO -> ``2021-03-03``."""
    if not value:
        return None
    v = " ".join(value.lower().replace(",", " ").split())
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", v)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        words = [w for w in v.split() if w not in {"de", "of", "the"}]
        nums = [int(w) for w in words if w.isdigit()]
        months = [_MONTHS[w.rstrip(".")] for w in words if w.rstrip(".") in _MONTHS]
        years = [n for n in nums if n > 31]
        days = [n for n in nums if n <= 31]
        if not years:
            return None
        y, mo, d = years[0], months[0] if months else 0, days[0] if days and months else 0
    if y == PLACEHOLDER_YEAR or not 1900 < y < 2100:
        return None
    if not mo:
        return f"{y:04d}"
    return f"{y:04d}-{mo:02d}" + (f"-{d:02d}" if d else "")


_SKIP_HTML = {"nav", "header", "footer", "script", "style", "noscript", "aside", "form", "svg",
              "button", "select", "template", "iframe"}  # fmt: skip
_NOISE_ATTR = re.compile(
    r"\b(nav|navbar|menu|breadcrumbs?|footer|cookie|sidebar|share|social|skip)\b", re.I
)
_BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article",
          "main", "blockquote", "pre", "table", "ul", "ol", "dd", "dt", "figcaption", "hr", "td"}  # fmt: skip
_VOID = set("br img meta link input hr area base col embed source wbr".split())


class HTMLText(HTMLParser):
    """Visible text of a page without nav/header/footer/script/style, one line per block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: list[str] = []
        self.meta: dict[str, str] = {}
        self.title = ""
        self.h1 = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key and a.get("content"):
                self.meta.setdefault(key, a["content"])
        elif tag == "link" and "canonical" in a.get("rel", "").lower() and a.get("href"):
            self.meta.setdefault("canonical", a["href"])
        elif tag == "html" and a.get("lang"):
            self.meta["lang"] = a["lang"]
        if tag in _VOID:
            if tag in {"br", "hr"}:
                self.parts.append("\n")
            return
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.append(tag)
            return
        noise = _NOISE_ATTR.search(f"{a.get('class', '')} {a.get('id', '')} {a.get('role', '')}")
        if tag in _SKIP_HTML or noise or a.get("aria-hidden") == "true" or "hidden" in a:
            self.skip.append(tag)
            return
        if tag in {"title", "h1"}:
            self._in = tag
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            return
        if tag == self._in:
            self._in = None
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self._in == "title":
            self.title += data
            return
        if self._in == "h1" and not self.h1:
            self.h1 = " ".join(data.split())
        self.parts.append(re.sub(r"\s+", " ", data))  # source line breaks are not breaks

    def lines(self) -> list[str]:
        text = "".join(self.parts)
        return [" ".join(ln.split()) for ln in text.split("\n")]
