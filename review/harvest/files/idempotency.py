"""Importing twice changes nothing: the normalised content hash of a file, and the messages that
say what an import skipped or found repeated (issue 12.3, 14.4; README "Importing twice")."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # parse_file imports text_sha256 from here
    from ...store.records import StoreResult
    from . import ParsedFile


def text_sha256(text: str) -> str:
    """Hash of a file's normalised text: decoded, without BOM, LF line ends, no trailing
    blanks, NFC. ``parse_file`` takes it of the text it decoded, so a file is read once."""
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    payload = "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def content_sha256(parsed: ParsedFile) -> str:
    """The file's content hash: ``text_sha256`` of its text (taken when it was parsed), so a
    renamed, re-encoded or CRLF copy has the same hash; workbooks hash their rows' raw payloads
    (zip bytes change on every save)."""
    if parsed.encoding == "xlsx":
        payload = json.dumps([r.raw for r in parsed.records], ensure_ascii=False, default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return parsed.text_sha256


def _listing(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def describe(result: StoreResult) -> str | None:
    """One line on what the import skipped (already stored) and stored although repeated."""
    parts = []
    if result.already_stored:
        ids = [k for k in result.already_stored if k != "content"]
        content = len(result.already_stored) - len(ids)
        what = [f"id {k}" for k in ids] + ([f"{content} matched by content"] if content else [])
        parts.append(
            f"{len(result.already_stored)} already stored from earlier searches of this source, "
            f"not added again: {_listing(what)}"
        )
    if result.repeats:
        what = [f"id {k} ({n} copies)" for k, n in sorted(result.repeated_ids.items())]
        if result.repeated_content:
            what.append(f"{result.repeated_content} exact copies of records without an id")
        n = result.repeats
        parts.append(
            f"{n} record{'s' if n != 1 else ''} repeat{'s' if n == 1 else ''} another record of "
            "this file (stored and counted as identified; `review dedup` removes them as "
            f"duplicates): {_listing(what)}"
        )
    return "; ".join(parts) or None
