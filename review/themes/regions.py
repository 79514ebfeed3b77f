"""Where a study was done (study location), kept apart from where its authors work (affiliation).

Study countries come from a gazetteer run over title, abstract and full text (``documents.text``);
affiliation countries come from ``records.affiliation_countries`` (OpenAlex authorships). Both are
written to ``work_countries`` (kind study|affiliation, origin gazetteer|openalex). A reviewer's
confirm/fix is a row with origin 'reviewer' and action add|remove; the latest one wins over the
automatic rows and survives re-detection. Region groups (e.g. SADC) come from the protocol.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..errors import ThemeError
from ..store.workspace import Workspace, now
from .gazetteer import (  # noqa: F401  (fold, gazetteer re-exported)
    _WORD,
    AMBIGUOUS,
    _by_word,
    _key,
    _sort_key,
    fold,
    gazetteer,
)

KINDS = ("study", "affiliation")
# full-text lines that are affiliations or addresses, not study settings
_AFFIL_LINE = re.compile(
    r"universit|department|faculty|institut|school of|college|e-?mail|@|correspond|p\.?\s?o\.? box|"
    r"centre for|center for|laborator",
    re.IGNORECASE,
)
FULLTEXT_MIN_MENTIONS = 2


def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Longest names first, as one alternation: the leftmost, then longest name wins."""
    alts = "|".join(r"[\s\-]+".join(re.escape(w) for w in t.split()) for t in terms)
    return re.compile(rf"(?<![\w])(?:{alts})(?![\w])", re.IGNORECASE)


def _candidates(text: str) -> tuple[str, ...]:
    """The names whose every word occurs in ``text``: only they can match, so the regex over
    them finds exactly what the regex over the whole gazetteer would (most texts have none,
    and a 600-name alternation tried at every position was 90 % of a 10k-work run)."""
    words = set(_WORD.findall(text.lower()))
    index = _by_word()
    found = [term for w in words for term, need in index.get(w, ()) if need <= words]
    return tuple(sorted(found, key=_sort_key))


_NEXT_CAP = re.compile(r"[ \t]+[A-Z][a-z]")


def find_countries(text: str | None) -> dict[str, list[str]]:
    """{country code: [names as found]} in ``text``; no partial words ("Niger" in "Nigeria")."""
    if not text:
        return {}
    t = fold(text)
    out: dict[str, list[str]] = {}
    terms = _candidates(t)
    if not terms:
        return out
    for m in _pattern(terms).finditer(t):
        found = m.group(0)
        key = _key(found)
        if key in AMBIGUOUS:
            if not found[:1].isupper():
                continue
            rest = t[m.end() : m.end() + 40]
            if _NEXT_CAP.match(rest):
                continue  # "Chad Smith", "Jordan Peterson"
            nxt = rest.split()[:1]
            if nxt and nxt[0].lower().strip(".,;:") in AMBIGUOUS[key]:
                continue  # "guinea pigs"
        out.setdefault(gazetteer()[key], []).append(found)
    return out


def study_countries(
    title: str | None, abstract: str | None, fulltext: str | None = None
) -> dict[str, str]:
    """{code: evidence} where the study was done.

    Title and abstract count at one mention; full text counts at ``FULLTEXT_MIN_MENTIONS``,
    skipping lines that look like affiliations or addresses (authors' countries are not settings).
    """
    out: dict[str, str] = {}
    for where, txt in (("title", title), ("abstract", abstract)):
        for code, names in find_countries(txt).items():
            out.setdefault(code, f"{where}: {names[0]}")
    if fulltext:
        body = "\n".join(line for line in fulltext.splitlines() if not _AFFIL_LINE.search(line))
        for code, names in find_countries(body).items():
            if len(names) >= FULLTEXT_MIN_MENTIONS:
                out.setdefault(code, f"full text: {names[0]} ×{len(names)}")
    return out


def _affiliations(raw: Iterable[str | None]) -> set[str]:
    codes: set[str] = set()
    for value in raw:
        if not value:
            continue
        try:
            items = json.loads(value)
        except (TypeError, ValueError):
            items = re.split(r"[;,|\s]+", value)
        for x in items if isinstance(items, list) else []:
            if isinstance(x, str) and re.fullmatch(r"[A-Za-z]{2}", x.strip()):
                codes.add(x.strip().upper())
    return codes


@dataclass(frozen=True)
class RegionSummary:
    works: int
    study_rows: int
    affiliation_rows: int
    with_study: int


def _batches(ids: list[int], size: int = 500) -> Iterator[tuple[list[int], str]]:
    """``ids`` in batches for ``IN (...)`` (SQLite's parameter limit; a batch's texts in memory):
    each batch and its placeholders."""
    for i in range(0, len(ids), size):
        chunk = ids[i : i + size]
        yield chunk, ",".join("?" * len(chunk))


def detect(ws: Workspace, work_ids: Iterable[int] | None = None) -> RegionSummary:
    """(Re)write the automatic ``work_countries`` rows of active works; reviewer rows are kept."""
    if work_ids is None:
        ids = [r[0] for r in ws.db.execute("SELECT id FROM works WHERE active = 1 ORDER BY id")]
    else:
        ids = sorted(set(work_ids))
    stamp = now()
    rows: list[tuple[object, ...]] = []
    with_study = 0
    for chunk, marks in _batches(ids):
        works = {
            r[0]: r
            for r in ws.db.execute(
                f"SELECT id, title, abstract FROM works WHERE id IN ({marks})", chunk
            )
        }
        docs: dict[int, list[str]] = {}
        for wid, text in ws.db.execute(
            f"SELECT work_id, text FROM documents WHERE text IS NOT NULL AND work_id IN ({marks}) ORDER BY id",
            chunk,
        ):
            docs.setdefault(wid, []).append(text)
        affs: dict[int, list[str]] = {}
        for wid, value in ws.db.execute(
            f"SELECT work_id, affiliation_countries FROM records WHERE work_id IN ({marks})", chunk
        ):
            affs.setdefault(wid, []).append(value)
        for wid in chunk:
            if wid not in works:
                continue
            _, title, abstract = works[wid]
            found = study_countries(title, abstract, "\n".join(docs.get(wid, [])) or None)
            with_study += bool(found)
            rows += [(wid, c, "study", "gazetteer", ev, stamp) for c, ev in sorted(found.items())]
            rows += [
                (wid, c, "affiliation", "openalex", None, stamp)
                for c in sorted(_affiliations(affs.get(wid, [])))
            ]
    with ws.transaction():
        for chunk, marks in _batches(ids):
            ws.db.execute(
                "DELETE FROM work_countries WHERE origin IN ('gazetteer','openalex')"
                f" AND work_id IN ({marks})",
                chunk,
            )
        ws.db.conn.executemany(
            "INSERT INTO work_countries (work_id, country, kind, origin, action, evidence, created_at)"
            " VALUES (?,?,?,?,'add',?,?)",
            rows,
        )
    return RegionSummary(
        works=len(ids),
        study_rows=sum(1 for r in rows if r[2] == "study"),
        affiliation_rows=sum(1 for r in rows if r[2] == "affiliation"),
        with_study=with_study,
    )


def set_country(
    ws: Workspace,
    work_id: int,
    country: str,
    action: str = "add",
    kind: str = "study",
    reviewer: str | None = None,
) -> None:
    """A reviewer confirms (add) or removes a country of a work; it wins over automatic rows."""
    import pycountry

    code = country.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        guess = gazetteer().get(_key(country))
        if guess is None:
            raise ThemeError(
                f"unknown country {country!r}; use an ISO code like ZA or a country name"
            )
        code = guess
    if action not in ("add", "remove"):
        raise ThemeError(f"unknown action {action!r}; expected add or remove")
    if kind not in KINDS:
        raise ThemeError(f"unknown kind {kind!r}; expected study or affiliation")
    if ws.db.execute("SELECT 1 FROM works WHERE id = ?", [work_id]).fetchone() is None:
        raise ThemeError(f"no work with id {work_id}", path=str(ws.path))
    with ws.transaction():
        ws.db.execute(
            "INSERT INTO work_countries (work_id, country, kind, origin, action, reviewer, created_at)"
            " VALUES (?,?,?,'reviewer',?,?,?)",
            [work_id, code, kind, action, reviewer, now()],
        )


def countries(
    ws: Workspace, kind: str = "study", work_ids: Iterable[int] | None = None
) -> dict[int, list[str]]:
    """{work id: sorted country codes} of ``kind``: automatic rows, then reviewer rows (latest wins)."""
    state: dict[tuple[int, str], bool] = {}
    reviewed: set[tuple[int, str]] = set()
    ids = list(dict.fromkeys(work_ids)) if work_ids is not None else None
    if ids is not None and len(ids) <= 500:  # the TUI asks for one work at a time: use the index
        rows = ws.db.execute(
            "SELECT work_id, country, origin, action FROM work_countries WHERE kind = ?"
            f" AND work_id IN ({','.join('?' * len(ids))}) ORDER BY id",
            [kind, *ids],
        )
    else:
        rows = ws.db.execute(
            "SELECT work_id, country, origin, action FROM work_countries WHERE kind = ? ORDER BY id",
            [kind],
        )
    for wid, code, origin, action in rows:
        k = (wid, code)
        if origin == "reviewer":
            reviewed.add(k)
            state[k] = action == "add"
        elif k not in reviewed:
            state[k] = action == "add"
    wanted = set(ids) if ids is not None else None
    out: dict[int, list[str]] = {}
    for (wid, code), present in sorted(state.items()):
        if present and (wanted is None or wid in wanted):
            out.setdefault(wid, []).append(code)
    return out


def regions_of(codes: Iterable[str], groups: dict[str, tuple[str, ...]]) -> list[str]:
    """Region groups (protocol order) containing any of ``codes``; 'Other' if none, 'Unknown' if no code."""
    codes = list(codes)
    if not codes:
        return ["Unknown"]
    hit = [name for name, members in groups.items() if any(c in members for c in codes)]
    if any(not any(c in m for m in groups.values()) for c in codes):
        hit.append("Other")
    return hit
