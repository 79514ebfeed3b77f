"""Reviewers' renames and merges of themes, kept in the append-only ``theme_edits`` log.

An edit is keyed by what identifies a theme across runs (``label.theme_key``: its seed theme,
else its top three keywords), not by a run's theme number, so renames survive re-runs.
``effective`` applies the log to one run: renamed labels, merged themes folded into their target.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import ThemeError
from ..store.workspace import Workspace, now
from .label import theme_key


@dataclass(frozen=True)
class Theme:
    theme_id: int
    label: str
    keywords: tuple[str, ...]
    representative: tuple[str, ...]
    seed_theme: str | None
    seed_score: float | None
    size: int
    key: str
    merged_into: int | None = None


def latest_run(ws: Workspace) -> int:
    row = ws.db.execute("SELECT MAX(id) FROM theme_runs").fetchone()
    if not row or row[0] is None:
        raise ThemeError("no theme run yet; run `review themes` first", path=str(ws.path))
    return int(row[0])


def _raw_themes(ws: Workspace, run_id: int) -> list[dict[str, Any]]:
    return list(ws.db.query("SELECT * FROM themes WHERE run_id = ? ORDER BY theme_id", [run_id]))


def _key_of(row: dict[str, Any]) -> str:
    return theme_key(row["seed_theme"], json.loads(row["keywords"] or "[]"))


def _theme_row(ws: Workspace, run_id: int, theme_id: int) -> dict[str, Any]:
    for r in _raw_themes(ws, run_id):
        if r["theme_id"] == theme_id:
            return r
    raise ThemeError(
        f"no theme {theme_id} in run {run_id}; see `review themes list`", path=str(ws.path)
    )


def rename(
    ws: Workspace, theme_id: int, label: str, reviewer: str | None = None, run_id: int | None = None
) -> str:
    """Rename a theme of the latest run (and the same theme in later runs). Returns its key."""
    if not label.strip():
        raise ThemeError("a theme label cannot be empty")
    rid = run_id or latest_run(ws)
    key = _key_of(_theme_row(ws, rid, theme_id))
    with ws.transaction():
        ws.db.execute(
            "INSERT INTO theme_edits (created_at, action, match_key, value, reviewer) VALUES (?,?,?,?,?)",
            [now(), "rename", key, label.strip(), reviewer],
        )
    return key


def merge(
    ws: Workspace, source: int, target: int, reviewer: str | None = None, run_id: int | None = None
) -> tuple[str, str]:
    """Fold theme ``source`` into ``target`` (now and in later runs where both are found)."""
    if source == target:
        raise ThemeError("cannot merge a theme into itself")
    rid = run_id or latest_run(ws)
    a, b = _key_of(_theme_row(ws, rid, source)), _key_of(_theme_row(ws, rid, target))
    if a == b:
        raise ThemeError(f"themes {source} and {target} already have the same key ({a})")
    with ws.transaction():
        ws.db.execute(
            "INSERT INTO theme_edits (created_at, action, match_key, value, reviewer) VALUES (?,?,?,?,?)",
            [now(), "merge", a, b, reviewer],
        )
    return a, b


def effective(
    ws: Workspace, run_id: int | None = None
) -> tuple[list[Theme], dict[int, tuple[int, float]]]:
    """Themes of a run with the edit log applied, and {work id: (theme id, probability)}."""
    rid = run_id or latest_run(ws)
    rows = _raw_themes(ws, rid)
    keys = {r["theme_id"]: _key_of(r) for r in rows}
    first_by_key: dict[str, int] = {}
    for tid, k in keys.items():
        first_by_key.setdefault(k, tid)
    names: dict[str, str] = {}
    into: dict[int, int] = {}
    for action, key, value in ws.db.execute(
        "SELECT action, match_key, value FROM theme_edits ORDER BY id"
    ):
        if action == "rename":
            names[key] = value
        elif action == "merge" and key in first_by_key and value in first_by_key:
            for tid, k in keys.items():
                if k == key:
                    into[tid] = first_by_key[value]

    def final(tid: int) -> int:
        seen = set()
        while tid in into and tid not in seen:
            seen.add(tid)
            tid = into[tid]
        return tid

    assign: dict[int, tuple[int, float]] = {}
    for wid, tid, p in ws.db.execute(
        "SELECT work_id, theme_id, probability FROM work_themes WHERE run_id = ?", [rid]
    ):
        assign[wid] = (final(tid) if tid != -1 else -1, p)
    sizes: dict[int, int] = {}
    for tid, _ in assign.values():
        sizes[tid] = sizes.get(tid, 0) + 1
    themes = []
    for r in rows:
        tid = r["theme_id"]
        themes.append(
            Theme(
                theme_id=tid,
                label=names.get(keys[tid], r["label"]),
                keywords=tuple(json.loads(r["keywords"] or "[]")),
                representative=tuple(json.loads(r["representative"] or "[]")),
                seed_theme=r["seed_theme"],
                seed_score=r["seed_score"],
                size=sizes.get(tid, 0),
                key=keys[tid],
                merged_into=final(tid) if final(tid) != tid else None,
            )
        )
    return themes, assign
