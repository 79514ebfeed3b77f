"""BibTeX (bibtexparser 1.x). A broken entry (unbalanced braces, bad fields) names its line."""

from __future__ import annotations

import re
from typing import Any

from ...errors import FormatError
from ...models import Record
from .common import clean, doi_of, first, id_from_links, make_record, pmid_of
from .vendors import BIBTEX_EXTRA, BIBTEX_FIELDS

_ENTRY_RE = re.compile(r"^[ \t]*@[ \t]*([A-Za-z]+)[ \t]*([{(])", re.MULTILINE)
_SPECIAL = {"comment", "string", "preamble"}


def looks_like(text: str) -> bool:
    return bool(re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]\s*[^,\s]*\s*,", text[:20000], re.MULTILINE))


def _close_of(text: str, start: int, opener: str) -> int:
    """Index just past the bracket closing the one at ``start``; -1 if never closed.

    Only ``{}`` nest; an entry opened with ``(`` closes at the first ``)`` at brace depth 0.
    """
    depth = 0
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if opener == "{" and depth == 0:
                return i + 1
            if depth < 0:
                return -1
        elif c == ")" and opener == "(" and depth == 0:
            return i + 1
        i += 1
    return -1


def split_entries(text: str, path: str) -> list[tuple[int, str, str]]:
    """(line, entry type, entry text) for every @entry, each running to the next entry.

    An entry whose braces never balance (a truncated file, a lost closing brace) raises
    FormatError naming its line.
    """
    starts = list(_ENTRY_RE.finditer(text))
    out = []
    for k, m in enumerate(starts):
        end = starts[k + 1].start() if k + 1 < len(starts) else len(text)
        chunk = text[m.start() : end].rstrip()
        line = text.count("\n", 0, m.start()) + 1
        kind = m.group(1).lower()
        if kind == "comment":
            continue
        if _close_of(chunk, m.start(2) - m.start(), m.group(2)) < 0:
            raise FormatError(
                f"@{m.group(1)} entry is not closed (unbalanced braces)",
                path=path,
                where=f"line {line}",
            )
        out.append((line, kind, chunk))
    return out


def _parse(text: str) -> list[dict[str, Any]]:
    import bibtexparser
    from bibtexparser.bparser import BibTexParser

    parser = BibTexParser(common_strings=True, ignore_nonstandard_types=False)
    return list(bibtexparser.loads(text, parser=parser).entries)


def _latex(value: Any) -> str | None:
    from bibtexparser.latexenc import latex_to_unicode

    text = clean(value)
    if not text:
        return None
    # escaped literals (as our exports write them) survive the brace stripping below
    for literal, mark in _LITERALS:
        text = text.replace(literal, mark)
    text = latex_to_unicode(text)
    text = re.sub(r"\\[a-zA-Z]+\s*\{([^{}]*)\}", r"\1", text)  # \emph{x} -> x
    text = text.replace("{", "").replace("}", "").replace("\\&", "&").replace("\\_", "_")
    text = text.replace("\\%", "%").replace("\\$", "$").replace("\\#", "#")
    for literal, mark in _LITERALS:
        text = text.replace(mark, literal[-1] if literal != "\\textbackslash " else "\\")
    return clean(text)


_LITERALS = (("\\textbackslash ", "\ue000"), ("\\{", "\ue001"), ("\\}", "\ue002"))


def to_record(entry: dict[str, Any]) -> Record:
    f = {k.lower(): v for k, v in entry.items()}
    kind = f.get("entrytype")

    def get(name: str) -> str | None:
        return _latex(first(*(f.get(k) for k in BIBTEX_FIELDS[name])))

    keywords = get("keywords") or ""
    pages = _latex(f.get("pages"))
    url = _latex(f.get("url"))
    extra: dict[str, Any] = {}
    for key, name in BIBTEX_EXTRA.items():
        if value := _latex(f.get(key)):
            extra[name] = re.split(r"\s+and\s+", value) if key == "editor" else value
    isbn = _latex(f.get("isbn"))
    return make_record(
        title=_latex(f.get("title")),
        abstract=_latex(f.get("abstract")),
        authors=tuple(a for p in re.split(r"\s+and\s+", f.get("author") or "") if (a := _latex(p))),
        year=first(f.get("year"), f.get("date")),
        doi=doi_of(_latex(f.get("doi")), url),
        venue=get("venue"),
        volume=_latex(f.get("volume")),
        issue=get("issue"),
        pages=pages.replace("--", "-") if pages else None,
        language=_latex(f.get("language")),
        record_type=get("record_type") or kind,
        url=url,
        isbn=isbn,
        issn=[v for k in BIBTEX_FIELDS["issn"] if (v := _latex(f.get(k)))],
        pmid=pmid_of(get("pmid"), *[k for k in [clean(f.get("id"))] if k and k.startswith("PMID")]),
        keywords=[
            k.strip() for k in re.split(";" if ";" in keywords else ",", keywords) if k.strip()
        ],
        source_record_id=first(
            get("record_id"), id_from_links([url] if url else []), clean(f.get("id"))
        ),
        database=get("database"),
        raw=dict(entry),
        raw_format="bibtex",
        extra=extra,
    )


def read(text: str, path: str) -> list[Record]:
    chunks = split_entries(text, path)
    wanted = [(line, kind, chunk) for line, kind, chunk in chunks if kind not in _SPECIAL]
    if not wanted:
        raise FormatError("no BibTeX entries", path=path)
    try:
        entries = _parse(text)
    except Exception as e:  # noqa: BLE001 - pyparsing errors carry the position
        raise FormatError(f"BibTeX parser failed: {e}", path=path) from e
    if len(entries) != len(wanted):
        # bibtexparser skips entries it cannot read: read those one by one, line by line
        strings = "\n".join(c for _, k, c in chunks if k == "string")
        entries = []
        for line, _kind, chunk in wanted:
            try:
                found = _parse(strings + "\n" + chunk)
            except Exception:  # noqa: BLE001
                found = []
            entries.extend(found if len(found) == 1 else [_lenient(chunk, line, path)])
    return [to_record(e) for e in entries]


_FIELD_LINE = re.compile(r"^\s*([A-Za-z][\w\-.: ]*?)\s*=\s*(.*)$")
_HEADER = re.compile(r"^\s*@\s*(\w+)\s*[{(]\s*([^,]*?)\s*,\s*(.*)$", re.DOTALL)


def _closed(value: str) -> bool:
    v = value.strip()
    depth = v.count("{") - v.count("}")
    if v.startswith("{"):
        return depth <= 0 or v.endswith("},")
    if v.startswith('"'):
        return len(v) > 1 and v.rstrip(",").endswith('"')
    return True


def _unwrap(value: str) -> str:
    v = value.strip().rstrip(",").strip()
    if v.startswith("{") and v.endswith("}") or v.startswith('"') and v.endswith('"'):
        v = v[1:-1]
    return v.strip()


def _lenient(chunk: str, line0: int, path: str) -> dict[str, Any]:
    """A field-per-line reading of an entry bibtexparser rejected (a key with a space, a field
    name with a space, stray braces inside a value), as CoLRev reads such exports."""
    m = _HEADER.match(chunk)
    if not m:
        raise FormatError("malformed BibTeX entry header", path=path, where=f"line {line0}")
    entry: dict[str, Any] = {"ENTRYTYPE": m.group(1).lower(), "ID": m.group(2).strip()}
    body = m.group(3).rstrip()
    body = body[:-1] if body.endswith(("}", ")")) else body
    current: str | None = None
    for i, line in enumerate(body.split("\n"), line0):
        fm = _FIELD_LINE.match(line)
        if fm and (current is None or _closed(entry[current])):
            current = fm.group(1).strip().lower()
            entry[current] = fm.group(2)
        elif current is not None and line.strip():
            entry[current] += "\n" + line.strip()
        elif line.strip():
            raise FormatError(
                "malformed BibTeX entry: expected 'field = {value}'", path=path, where=f"line {i}"
            )
    if current is None or not _closed(entry[current]):
        raise FormatError(
            "malformed BibTeX entry: a field value is not closed", path=path, where=f"line {line0}"
        )
    return {k: _unwrap(v) if k not in {"ENTRYTYPE", "ID"} else v for k, v in entry.items()}


def source_name(text: str) -> str | None:
    head = text[:50000]
    if re.search(r"source\s*=\s*[{\"]Scopus", head, re.IGNORECASE):
        return "Scopus"
    if re.search(r"(Unique-ID\s*=\s*\{WOS:|@\w+\{\s*WOS:)", head, re.IGNORECASE):
        return "Web of Science"
    return None
