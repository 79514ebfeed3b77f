"""Suggestions that need no model: study countries from the gazetteer, the city most mentioned.

Both are ``review suggest`` rows (score, evidence sentence) for ``countries`` and city ``text``
fields, logged with the run like the option scores of ``suggest.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..store.workspace import Workspace
from . import cities as city_names
from .codebook import CodingField
from .suggest import Suggestion
from .text import MAX_SENTENCES, sentences


def countries(ws: Workspace, f: CodingField, ids: Sequence[int]) -> list[Suggestion]:
    from ..themes import regions

    regions.detect(ws, ids)
    found = regions.countries(ws, "study", ids)
    ev: dict[tuple[int, str], str] = {}
    for i in range(0, len(ids), 500):
        chunk = list(ids[i : i + 500])
        for wid, code, evidence in ws.db.execute(
            "SELECT work_id, country, evidence FROM work_countries WHERE kind = 'study'"
            f" AND work_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            chunk,
        ):
            if evidence:
                ev[(wid, code)] = evidence
    return [
        Suggestion(wid, f.name, code, 1.0, True, ev.get((wid, code)), "gazetteer")
        for wid in ids
        for code in found.get(wid, [])
    ]


def cities(ws: Workspace, f: CodingField, ids: Sequence[int]) -> list[Suggestion]:

    sents = sentences(ws, ids, limit=MAX_SENTENCES)
    out = []
    for wid in ids:
        hit = city_names.most_mentioned(sents.get(wid, []))
        if hit is not None:
            name, s, n = hit
            score = round(min(1.0, 0.5 + 0.1 * n), 4)
            out.append(
                Suggestion(wid, f.name, name, score, True, s.text, s.place, s.page, s.document_id)
            )
    return out
