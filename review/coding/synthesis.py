"""``review synthesis``: the regional picture from the best codes of a choice field.

Per work: its study countries (a reviewer's confirmed countries field when there is one, else the
gazetteer's study countries -- never author affiliations), its year, and its options (``best``
codes: confirmed where a reviewer confirmed the work, else suggested). Every count carries the
number of its works a reviewer confirmed, so a cell of 12 with 3 confirmed reads "12 (3 ✓)".

Outputs: by_region.csv (region, option, year, works, confirmed; a work counts once per region),
by_country.csv (each country once, under the first protocol region that holds it), evidence.csv
(work, country, year, option, status, score, quote), heatmap.png, trends.png and report.html
(images embedded as base64: one file that opens from an e-mail attachment).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store.workspace import Workspace
from ..themes import regions
from . import CodingError
from .codebook import CodingField
from .export import rows as best_rows
from .scope import select
from .store import confirmed
from .suggest import latest
from .synthesis_report import html_report, plot_heatmap, plot_trends

OUTPUTS = (
    "by_region.csv", "by_country.csv", "evidence.csv", "heatmap.png", "trends.png", "report.html",
)  # fmt: skip


@dataclass(frozen=True)
class WorkCodes:
    work_id: int
    title: str
    year: int | None
    countries: tuple[str, ...]
    options: tuple[str, ...]
    confirmed: bool
    evidence: dict[str, tuple[str, float | None, str]]  # option -> (quote, score, status)


@dataclass(frozen=True)
class SynthesisResult:
    field: str
    out_dir: Path
    files: tuple[Path, ...]
    n_works: int
    n_confirmed: int
    n_codes: int


def primary_region(code: str, groups: dict[str, tuple[str, ...]]) -> str:
    """The first protocol region holding the country ('Other' if none): each country once."""
    return next((name for name, members in groups.items() if code in members), "Other")


def _field(ws: Workspace, name: str | None) -> CodingField:
    proto = ws.require_protocol()
    choice = [f for f in proto.codebook if f.choice]
    if name is not None:
        f = proto.coding_field(name)
        if f is None or not f.choice:
            raise CodingError(
                f"--field {name!r} is not a choice field; choice fields: "
                + (", ".join(x.name for x in choice) or "none")
            )
        return f
    if not choice:
        raise CodingError("the protocol's codebook has no choice field to synthesise")
    return choice[0]


def collect(ws: Workspace, f: CodingField) -> list[WorkCodes]:
    """One WorkCodes per work in scope (or coded), best codes of ``f``."""
    scope = set(select(ws, None).work_ids)
    rows = best_rows(ws, "best", f.name)
    ids = sorted(scope | {r["work_id"] for r in rows})
    proto = ws.require_protocol()
    years_ok = proto.years
    meta = {
        r[0]: (r[1] or "", r[2])
        for r in ws.db.execute("SELECT id, title, year FROM works WHERE active = 1")
    }
    ids = [w for w in ids if w in meta]
    study = regions.countries(ws, "study", ids)
    cfield = next((x for x in proto.codebook if x.kind == "countries"), None)
    if cfield is not None:  # a reviewer's confirmed countries win over the gazetteer
        for (wid, _), c in confirmed(ws, cfield.name, ids).items():
            study[wid] = sorted(c.value or [])
    sugg = latest(ws, ids, f.name)
    by: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["work_id"], []).append(r)
    conf = {wid for (wid, _) in confirmed(ws, f.name, ids)}
    out = []
    for wid in ids:
        title, year = meta[wid]
        if year is not None and years_ok and not years_ok[0] <= year <= years_ok[1]:
            year = None  # placeholder dates (1970) are no year
        ev: dict[str, tuple[str, float | None, str]] = {}
        for r in by.get(wid, []):
            quote = r["evidence"]
            if quote is None:  # a confirmed code without a suggestion row: show the best sentence
                s = next((x for x in sugg.get((wid, f.name), []) if x["value"] == r["value"]), None)
                quote = s["evidence"] if s else ""
            ev[str(r["value"])] = (quote or "", r["score"], r["status"])
        opts = tuple(c for c in f.codes if c in ev)
        out.append(WorkCodes(wid, title, year, tuple(study.get(wid, [])), opts, wid in conf, ev))
    return out


def tables(
    works: list[WorkCodes], groups: dict[str, tuple[str, ...]]
) -> tuple[
    Counter[tuple[str, str, str]],
    Counter[tuple[str, str, str]],
    Counter[tuple[str, str, str]],
    Counter[tuple[str, str, str]],
]:
    """(region counts, region confirmed, country counts, country confirmed) keyed by
    (region or country, option, year) -- year '' when unknown."""
    rc: Counter[tuple[str, str, str]] = Counter()
    rconf: Counter[tuple[str, str, str]] = Counter()
    cc: Counter[tuple[str, str, str]] = Counter()
    cconf: Counter[tuple[str, str, str]] = Counter()
    for w in works:
        year = str(w.year or "")
        for opt in w.options:
            for region in regions.regions_of(w.countries, groups):
                rc[(region, opt, year)] += 1
                rconf[(region, opt, year)] += w.confirmed
            for c in w.countries:
                cc[(c, opt, year)] += 1
                cconf[(c, opt, year)] += w.confirmed
    return rc, rconf, cc, cconf


def write(ws: Workspace, out_dir: str | Path, field_name: str | None = None) -> SynthesisResult:
    f = _field(ws, field_name)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CodingError(f"cannot create output folder ({e.strerror})", path=str(out))
    proto = ws.require_protocol()
    groups = dict(proto.regions)
    works = collect(ws, f)
    rc, rconf, cc, cconf = tables(works, groups)
    with open(out / "by_region.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["region", "option", "year", "works", "confirmed"])
        for (r, o, y), n in sorted(rc.items()):
            w.writerow([r, o, y, n, rconf[(r, o, y)]])
    with open(out / "by_country.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["country", "region", "option", "year", "works", "confirmed"])
        for (c, o, y), n in sorted(
            cc.items(), key=lambda kv: (primary_region(kv[0][0], groups), kv[0])
        ):
            w.writerow([c, primary_region(c, groups), o, y, n, cconf[(c, o, y)]])
    with open(out / "evidence.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["work_id", "title", "countries", "year", "option", "status", "score", "quote"])
        for wk in works:
            for o in wk.options:
                quote, score, status = wk.evidence[o]
                w.writerow(
                    [wk.work_id, wk.title, ";".join(wk.countries), wk.year or "", o, status,
                     "" if score is None else score, quote]
                )  # fmt: skip
    plot_heatmap(works, f, groups, out / "heatmap.png")
    plot_trends(works, f, out / "trends.png")
    run = ws.db.execute(
        "SELECT id, method, model, created_at FROM coding_runs"
        " ORDER BY group_name IS NULL DESC, id DESC LIMIT 1"  # our own latest run first
    ).fetchone()
    html_report(works, f, groups, proto.title, run, out / "report.html",
                {"heatmap": out / "heatmap.png", "trends": out / "trends.png"})  # fmt: skip
    return SynthesisResult(
        f.name, out, tuple(out / n for n in OUTPUTS), len(works),
        sum(w.confirmed for w in works), sum(len(w.options) for w in works),
    )  # fmt: skip
