"""Saved web pages (Markdown or HTML) as gray literature, boilerplate stripped.

A page may start with tags such as ``[[type:blog]] [[source:URL]] [[year:2021]] [[date:March 3,
2021]] [[country:Namibia]]`` (the UNDP SDG Innovation Commons scrapes); HTML pages give their
``<title>``, canonical URL and ``article:published_time``. ``read_page`` is pure; ``add_web`` stores
a batch as one logged search in the "other" arm, one transaction per page.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FormatError, HarvestError
from ..models import Record
from ..store.workspace import Workspace
from . import documents as docs
from .batch import AddResult, BatchSpec, ReadDocument, add_documents

SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt")
PLACEHOLDER_YEAR = docs.PLACEHOLDER_YEAR

_TAG_RE = re.compile(r"\[\[([A-Za-z_-]+):([^\]]*)\]\]")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_BOILER = {
    "skip to main content", "skip to content", "skip to navigation", "search", "global", "home",
    "menu", "main menu", "read more", "read more...", "share", "share this", "share this page",
    "print", "back to top", "close", "open menu", "toggle navigation", "facebook", "twitter", "x",
    "linkedin", "instagram", "youtube", "email", "subscribe", "content types", "active filters:",
    "clear all", "load more", "next", "previous", "see more", "learn more", "original article "
    "published here", "accept cookies", "cookie settings", "follow us", "contact us", "sign in", "sign up", "write",
}  # fmt: skip
_READ_MORE = re.compile(r"^(read more|leia mais|lire la suite|ver más|leer más)\W*$", re.I)


@dataclass(frozen=True)
class WebPage:
    path: Path
    sha256: str
    kind: str  # md | html | txt
    title: str | None
    url: str | None
    date: str | None  # ISO yyyy-mm-dd when known
    year: int | None
    countries: tuple[str, ...]  # names as tagged
    country_codes: tuple[str, ...]  # ISO alpha-2
    record_type: str
    text: str  # cleaned
    abstract: str | None
    language: str | None
    tags: dict[str, list[str]] = field(default_factory=dict)


def parse_tags(text: str) -> tuple[dict[str, list[str]], str]:
    """``[[key:value]]`` tags (keys lower-cased) and the text without them."""
    tags: dict[str, list[str]] = {}
    for m in _TAG_RE.finditer(text):
        tags.setdefault(m.group(1).lower(), []).append(m.group(2).strip())
    return tags, _TAG_RE.sub("", text)


def _is_caps_label(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters) and len(line.split()) <= 12


def _is_prose(line: str) -> bool:
    words = len(line.split())
    return words >= 20 or (words >= 6 and bool(re.search(r"[.!?…:\"”»)]$", line)))


def clean_lines(
    lines: Sequence[str], *, title: str | None = None, common: frozenset[str] = frozenset()
) -> list[str]:
    """Drop navigation, menus, labels, related-item lists, footers and repeated short lines."""
    raw = [ln.strip() for ln in lines]
    raw = [ln for ln in raw if ln and not re.fullmatch(r"[#>*\-_=|\s]+", ln)]
    # related items ("NEWS / title / teaser / READ MORE") and everything after them
    first_prose = next((i for i, ln in enumerate(raw) if _is_prose(ln)), len(raw))
    for k, ln in enumerate(raw):
        if k > first_prose and _READ_MORE.match(ln):
            cut = next(
                (j for j in range(k - 1, max(first_prose, k - 5), -1) if _is_caps_label(raw[j])),
                k - 1,
            )
            if sum(len(x) for x in raw[:cut] if _is_prose(x)) >= 300:
                raw = raw[:cut]
            break
    t = (title or "").strip().lower()
    kept: list[str] = []
    for i, ln in enumerate(raw):
        low = ln.lower()
        if (
            low in _BOILER
            or _READ_MORE.match(ln)
            or low.startswith(("©", "copyright", "all rights reserved"))
        ):
            continue
        if ln in common or (t and low == t) or _is_caps_label(ln):
            continue
        if i < first_prose and len(ln.split()) <= 3:
            continue  # breadcrumbs and menu items above the article
        kept.append(ln)
    while kept and not _is_prose(kept[-1]) and len(kept[-1].split()) <= 6:
        kept.pop()  # footer link lists
    return kept


def _abstract(lines: Sequence[str], limit: int = 1500) -> str | None:
    out: list[str] = []
    for ln in lines:
        if not _is_prose(ln) or len(ln.split()) < 12:
            if out:
                break
            continue
        out.append(ln)
        if sum(map(len, out)) >= 300 or len(out) >= 2:
            break
    if not out:
        return None
    a = "\n\n".join(out)
    return a if len(a) <= limit else a[:limit].rsplit(" ", 1)[0] + " …"


def _raw_lines(
    path: Path, text: str
) -> tuple[str, list[str], dict[str, list[str]], str | None, dict[str, str]]:
    """kind, body lines, tags, title and (HTML) meta of a saved page."""
    tags, body = parse_tags(text)
    is_html = path.suffix.lower() in {".html", ".htm"} or bool(
        re.match(r"\s*(<!doctype html|<html)", text, re.I)
    )
    if is_html:
        parser = docs.HTMLText()
        parser.feed(body)
        parser.close()
        meta = parser.meta
        title = meta.get("og:title") or parser.h1 or " ".join(parser.title.split()) or None
        return "html", parser.lines(), tags, title, meta
    title = None
    lines: list[str] = []
    for ln in body.splitlines():
        s = ln.strip()
        m = re.match(r"^#{1,2}\s+(.+)$", s)
        if m and title is None:
            heading = " ".join(m.group(1).split()).rstrip(". ").strip()
            if heading.lower() not in _BOILER:  # scrapes whose "title" is the skip link
                title = heading or None
            continue
        s = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", s))
        lines.append(re.sub(r"^#{1,6}\s+|^\s*[-*+]\s+", "", s).strip("*_ "))
    return ("md" if path.suffix.lower() != ".txt" else "txt"), lines, tags, title, {}


def read_page(
    path: str | Path, *, url: str | None = None, common: frozenset[str] = frozenset()
) -> WebPage:
    """Parse one saved page; ``common`` = short lines repeated across the batch (boilerplate)."""
    p = Path(path)
    text = _decode(p)
    kind, lines, tags, title, meta = _raw_lines(p, text)
    page_url = url or _first(tags, "source", "url") or meta.get("og:url") or meta.get("canonical")
    if not title and page_url:
        title = _title_from_url(page_url, lines)
    cleaned = clean_lines(lines, title=title, common=common)
    if not title:
        title = next((ln for ln in cleaned if 2 <= len(ln.split()) <= 25), None) or p.stem
    date = docs.parse_date(_first(tags, "date", "published")) or docs.parse_date(
        meta.get("article:published_time")
        or meta.get("citation_publication_date")
        or meta.get("date")
    )
    year_tag = _first(tags, "year")
    year = (
        int(year_tag)
        if year_tag and year_tag.isdigit() and int(year_tag) != PLACEHOLDER_YEAR
        else None
    )
    if year is None and date:
        year = int(date[:4])
    names = [c.strip() for v in tags.get("country", []) for c in re.split(r"[,;|]", v) if c.strip()]
    codes = [c for c in (docs.country_code(n) for n in names) if c]
    rtype = (_first(tags, "type") or "webpage").lower().strip()
    body = "\n".join(cleaned)
    lang = docs.detect_language(body) or (meta.get("lang") or "")[:2].lower() or None
    return WebPage(
        path=p,
        sha256=docs.sha256_file(p),
        kind=kind,
        title=title,
        url=page_url,
        date=date,
        year=year,
        countries=tuple(dict.fromkeys(names)),
        country_codes=tuple(dict.fromkeys(codes)),
        record_type={"publications": "publication", "blogs": "blog"}.get(rtype, rtype),
        text=body,
        abstract=_abstract(cleaned),
        language=lang,
        tags=tags,
    )


def _title_from_url(url: str, lines: Sequence[str]) -> str | None:
    """The page's headline when the scrape lost its heading: the line that best matches the URL
    slug (UNDP pages print the headline in capitals after the breadcrumb), else the slug."""
    from rapidfuzz import fuzz

    slug = url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    slug_text = re.sub(r"[-_]+", " ", slug).strip()
    if len(slug_text.split()) < 2:
        return None
    best, best_score = None, 0.0
    for ln in lines:
        if len(ln.split()) >= 3 and any(c.isalpha() for c in ln):
            score = fuzz.token_set_ratio(ln.lower(), slug_text.lower())
            if score > best_score:
                best, best_score = ln, score
    if best is not None and best_score >= 80:
        return best.capitalize() if best.upper() == best else best
    return slug_text.capitalize()


def _first(tags: dict[str, list[str]], *keys: str) -> str | None:
    for k in keys:
        for v in tags.get(k, []):
            if v.strip():
                return v.strip()
    return None


def _decode(p: Path) -> str:
    try:
        data = p.read_bytes()
    except OSError as e:
        raise FormatError(f"cannot read file ({e.strerror})", path=str(p)) from e
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FormatError("binary file, not a saved web page", path=str(p))
    for enc in (
        ("utf-8-sig", "utf-16")
        if data.startswith((b"\xff\xfe", b"\xfe\xff"))
        else ("utf-8-sig", "cp1252")
    ):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise FormatError("cannot decode text (not UTF-8 or cp1252)", path=str(p))


def common_lines(paths: Sequence[Path]) -> frozenset[str]:
    """Short lines that occur in at least 3 pages (and 5% of them): navigation and footers."""
    if len(paths) < 3:
        return frozenset()
    counts: Counter[str] = Counter()
    for p in paths:
        try:
            text = p.read_text("utf-8", errors="replace")
        except OSError:
            continue
        counts.update({s for ln in text.splitlines() if (s := ln.strip()) and len(s.split()) <= 8})
    need = max(3, len(paths) // 20)
    return frozenset(s for s, n in counts.items() if n >= need and not _TAG_RE.search(s))


def page_record(page: WebPage) -> Record:
    extra: dict[str, object] = {"file_name": page.path.name}
    if page.countries:
        extra["countries"] = list(page.countries)
    if page.date:
        extra["date"] = page.date
    for key in ("accessed", "access_date", "retrieved"):
        if key in page.tags:
            extra["accessed"] = docs.parse_date(page.tags[key][0]) or page.tags[key][0]
    return Record(
        title=page.title,
        abstract=page.abstract,
        year=page.year,
        language=page.language,
        record_type=page.record_type,
        url=page.url,
        source_record_id=page.url or page.path.name,
        file_sha256=page.sha256,
        published_date=page.date,
        raw={"tags": page.tags, "file_name": page.path.name},
        raw_format=f"web-{page.kind}",
        extra=extra,
    )


def add_web(
    ws: Workspace,
    paths: Iterable[str | Path],
    *,
    url: str | None = None,
    source: str | None = None,
    kind: str | None = None,
    skip_bad: bool = False,
) -> AddResult:
    """Add saved pages (files or folders) as one logged batch in the "other" arm (batch.py)."""
    files = docs.iter_files(paths, SUFFIXES)
    if not files:
        raise HarvestError(
            "no saved pages (.md, .html, .htm, .txt) found", path=", ".join(map(str, paths))
        )
    if url and len(files) > 1:
        raise HarvestError("--url names one page; give one file with it")
    common = common_lines(files)

    def read(f: Path) -> ReadDocument:
        page = read_page(f, url=url, common=common)
        return ReadDocument(
            path=page.path,
            sha256=page.sha256,
            record=page_record(page),
            kind=page.kind,
            text=page.text,
            language=page.language,
            meta={"url": page.url, "date": page.date, "tags": page.tags},
            countries=tuple(page.country_codes),
        )

    spec = BatchSpec(
        what="pages",
        search_kind="web",
        default_kind="website",
        tool="review.harvest.web",
        skip_existing=True,
    )
    log_name = ", ".join(str(p) for p in paths)
    return add_documents(
        ws,
        files,
        read,
        spec,
        source=source,
        kind=kind,
        url=url,
        skip_bad=skip_bad,
        log_name=log_name,
    )
