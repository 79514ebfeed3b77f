"""A work's text as sentences, each with where it came from (title, abstract, page n, full text).

Full text is used when a PDF or saved page is attached: ``document_pages`` (page numbers) when the
document has them, else ``documents.text``. Sentences repeated (an abstract that is also the
page's first paragraph) are kept once; at most ``MAX_SENTENCES`` per work, in reading order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..store.workspace import Workspace

MAX_SENTENCES = 400
MIN_CHARS = 20
MAX_CHARS = 500
_SPLIT = re.compile(
    r"(?<=[.!?;])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9À-Ý])|\n+|\s•\s|(?<=[a-z]{2})(?=[A-Z][a-z]*\s)"
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Sentence:
    text: str
    where: str  # title | abstract | page | full text
    page: int | None = None
    document_id: int | None = None

    @property
    def place(self) -> str:
        """Where to find it, for people: 'title', 'abstract', 'p. 4', 'full text'."""
        return f"p. {self.page}" if self.page is not None else self.where


def split(text: str | None) -> list[str]:
    """Sentences of ``text`` (also split at line breaks and bullets), spaces normalised."""
    if not text:
        return []
    out = []
    for part in _SPLIT.split(text):
        s = _SPACE.sub(" ", part or "").strip()
        if len(s) >= MIN_CHARS:
            out.append(s if len(s) <= MAX_CHARS else s[:MAX_CHARS].rsplit(" ", 1)[0] + " …")
    return out


def _add(out: list[Sentence], seen: set[str], items: Iterable[Sentence], limit: int) -> None:
    for s in items:
        if len(out) >= limit:
            return
        key = s.text.lower()
        if key not in seen:
            seen.add(key)
            out.append(s)


def sentences(
    ws: Workspace, work_ids: Sequence[int], limit: int = MAX_SENTENCES
) -> dict[int, list[Sentence]]:
    """{work id: sentences}: title, abstract, then the full text of attached documents."""
    out: dict[int, list[Sentence]] = {}
    ids = list(dict.fromkeys(work_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        works = {
            r[0]: r
            for r in ws.db.execute(
                f"SELECT id, title, abstract FROM works WHERE id IN ({marks})", chunk
            )
        }
        docs: dict[int, list[tuple[int, str | None]]] = {}
        for wid, did, text in ws.db.execute(
            f"SELECT work_id, id, text FROM documents WHERE work_id IN ({marks}) ORDER BY id",
            chunk,
        ):
            docs.setdefault(wid, []).append((did, text))
        dids = [d for ds in docs.values() for d, _ in ds]
        pages: dict[int, list[tuple[int, str]]] = {}
        for j in range(0, len(dids), 500):
            dchunk = dids[j : j + 500]
            for did, page, text in ws.db.execute(
                "SELECT document_id, page, text FROM document_pages"
                f" WHERE document_id IN ({','.join('?' * len(dchunk))}) ORDER BY document_id, page",
                dchunk,
            ):
                pages.setdefault(did, []).append((page, text or ""))
        for wid in chunk:
            if wid not in works:
                continue
            _, title, abstract = works[wid]
            full: list[Sentence] = []
            for did, text in docs.get(wid, []):
                if did in pages:
                    for page, ptext in pages[did]:
                        full += [Sentence(s, "page", page, did) for s in split(ptext)]
                else:
                    full += [Sentence(s, "full text", None, did) for s in split(text)]
            located = {s.text.lower(): s for s in reversed(full)}  # first occurrence wins
            got: list[Sentence] = []
            seen: set[str] = set()
            if title and title.strip():
                _add(got, seen, [Sentence(_SPACE.sub(" ", title).strip(), "title")], limit)
            # an abstract taken from the document keeps the page it is on
            abstract_s = (located.get(s.lower(), Sentence(s, "abstract")) for s in split(abstract))
            _add(got, seen, abstract_s, limit)
            _add(got, seen, full, limit)
            out[wid] = got
    return out
