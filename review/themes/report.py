"""Theme outputs: themes.csv, trends.csv, heatmap.png, trends.png and report.html."""

from __future__ import annotations

import csv
import html
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ThemeError
from ..store.workspace import Workspace
from . import regions, trends
from .edits import Theme, effective, latest_run
from .label import SEED_THRESHOLD

OUTPUTS = ("themes.csv", "trends.csv", "heatmap.png", "trends.png", "report.html")


@dataclass(frozen=True)
class Report:
    run_id: int
    out_dir: Path
    files: tuple[Path, ...]


def write(ws: Workspace, out_dir: str | Path, run_id: int | None = None) -> Report:
    """Write the five outputs for a run (default: the latest) with reviewers' edits applied."""
    rid = run_id or latest_run(ws)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ThemeError(f"cannot create output folder ({e.strerror})", path=str(out))
    themes, assign = effective(ws, rid)
    by_id = {t.theme_id: t for t in themes}
    ids = sorted(assign)
    works = {
        r["id"]: r for r in ws.db.query("SELECT id, title, year FROM works") if r["id"] in assign
    }
    study = regions.countries(ws, "study", ids)
    proto = ws.protocol()
    groups = dict(proto.regions) if proto else {}
    run = dict(next(iter(ws.db.query("SELECT * FROM theme_runs WHERE id = ?", [rid]))))

    def label(tid: int) -> str:
        return by_id[tid].label if tid in by_id else "outlier"

    with open(out / "themes.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["work_id", "theme_id", "theme_label", "probability", "countries", "year"])
        for wid in ids:
            tid, p = assign[wid]
            w.writerow(
                [
                    wid,
                    tid,
                    label(tid),
                    f"{p:.4f}",
                    ";".join(study.get(wid, [])),
                    works[wid]["year"] or "",
                ]
            )
    counts = trends.trend_counts(
        {wid: label(t) for wid, (t, _) in assign.items() if t != -1},
        {wid: works[wid]["year"] for wid in ids},
        study,
        groups,
    )
    with open(out / "trends.csv", "w", newline="", encoding="utf-8") as f:
        dw = csv.DictWriter(f, fieldnames=["region", "country", "theme", "year", "count"])
        dw.writeheader()
        dw.writerows(trends.rows(counts))
    _heatmap(counts, groups, out / "heatmap.png")
    per_year: Counter[tuple[str, int]] = Counter(
        (label(t), int(works[wid]["year"]))
        for wid, (t, _) in assign.items()
        if t != -1 and works[wid]["year"]
    )
    _trend_plot(per_year, out / "trends.png")
    _html(run, themes, assign, works, out / "report.html")
    return Report(rid, out, tuple(out / n for n in OUTPUTS))


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _short(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def naming(seed_theme: str | None, seed_score: float | None) -> str:
    """How a theme got its name, for the report: a seed above the threshold, else keywords."""
    if seed_theme and seed_score is not None:
        return f"named after the protocol seed (similarity {seed_score:.2f} ≥ {SEED_THRESHOLD:.2f})"
    if seed_score is not None and seed_score >= SEED_THRESHOLD:
        return "named by its keywords: its closest seed names a more similar theme"
    if seed_score is not None:
        return (
            f"named by its keywords: the closest seed is only {seed_score:.2f} similar "
            f"(a seed names a theme from {SEED_THRESHOLD:.2f})"
        )
    return "named by its keywords"


def heatmap_matrix(
    counts: Counter[trends.Key], groups: dict[str, tuple[str, ...]]
) -> tuple[list[str], list[str], list[list[int]]]:
    """``trends.matrix`` with each country once, under the first protocol region holding it
    (a country in two regions, e.g. SADC and SACU, used to get a row under each)."""
    first: dict[str, str] = {}
    for name, members in groups.items():
        for c in members:
            first.setdefault(c, name)
    rows, cols, m = trends.matrix(counts)

    def own(row: str) -> bool:  # "region · country": the country's first region; else a region
        region, _, country = row.partition(" · ")
        return not country or first.get(country, region) == region

    keep = [i for i, r in enumerate(rows) if own(r)]
    return [rows[i] for i in keep], cols, [m[i] for i in keep]


def _heatmap(counts: Counter[trends.Key], groups: dict[str, tuple[str, ...]], path: Path) -> None:
    plt = _plt()
    rows, cols, m = heatmap_matrix(counts, groups)
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(cols) + 3), max(3, 0.35 * len(rows) + 2)))
    if rows and cols:
        im = ax.imshow(m, cmap="YlOrRd", aspect="auto")
        ax.set_xticks(
            range(len(cols)), [_short(c, 30) for c in cols], rotation=40, ha="right", fontsize=8
        )
        ax.set_yticks(range(len(rows)), rows, fontsize=8)
        for i, row in enumerate(m):
            for j, v in enumerate(row):
                if v:
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=7)
        fig.colorbar(im, ax=ax, label="works")
    else:
        ax.text(0.5, 0.5, "no themed works", ha="center", va="center")
    ax.set_title("Works per region and theme (study location)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _trend_plot(per: Counter[tuple[str, int]], path: Path) -> None:
    """Works per theme and year (each work once), the ten largest themes."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    themes = sorted(
        {t for t, _ in per}, key=lambda t: -sum(n for (tt, _), n in per.items() if tt == t)
    )
    for t in themes[:10]:
        ys = sorted(y for tt, y in per if tt == t)
        ax.plot(ys, [per[(t, y)] for y in ys], marker="o", label=_short(t))
    if not themes:
        ax.text(
            0.5, 0.5, "no dated, themed works", ha="center", va="center", transform=ax.transAxes
        )
    else:
        ax.legend(fontsize=7, loc="upper left")
    ax.set_xlabel("year")
    ax.set_ylabel("works")
    ax.set_title("Themes over the years")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _html(
    run: dict[str, Any],
    themes: list[Theme],
    assign: dict[int, tuple[int, float]],
    works: dict[int, Any],
    path: Path,
) -> None:
    e = html.escape
    outliers = sum(1 for t, _ in assign.values() if t == -1)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Themes</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.2em .6em;"
        "border-bottom:1px solid #ddd;text-align:left;vertical-align:top}img{max-width:100%}</style></head><body>",
        f"<h1>Themes (run {e(str(run['id']))})</h1>",
        f"<p>Stage <b>{e(str(run['stage']))}</b>, model <code>{e(str(run['model']))}</code>, seed {e(str(run['seed']))}: "
        f"{len(assign)} works, {sum(1 for t in themes if t.merged_into is None)} themes, {outliers} outliers.</p>",
        "<table><tr><th>id</th><th>theme</th><th>works</th><th>keywords</th><th>representative titles</th></tr>",
    ]
    for t in themes:
        if t.merged_into is not None:
            continue
        seed = f"<br><small>{e(naming(t.seed_theme, t.seed_score))}</small>"
        reps = "".join(f"<li>{e(x)}</li>" for x in t.representative)
        parts.append(
            f"<tr><td>{t.theme_id}</td><td>{e(t.label)}{seed}</td><td>{t.size}</td>"
            f"<td>{e(', '.join(t.keywords))}</td><td><ul>{reps}</ul></td></tr>"
        )
    parts += [
        "</table>",
        "<h2>Regions × themes</h2><img src='heatmap.png' alt='heatmap of works per region and theme'>",
        "<h2>Themes over the years</h2><img src='trends.png' alt='themes over the years'>",
        f"<h2>Run</h2><pre>{e(json.dumps(json.loads(run['params']), indent=1))}\n"
        f"{e(json.dumps(json.loads(run['versions']), indent=1))}</pre>",
        "</body></html>",
    ]
    path.write_text("\n".join(parts), encoding="utf-8")
