"""Plots and the self-contained report.html of ``review synthesis`` (matplotlib, Agg)."""

from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..themes import regions
from .codebook import CodingField

if TYPE_CHECKING:
    from .synthesis import WorkCodes

NO_COUNTRY = "(no study country)"
OTHER = "(countries outside the protocol's regions)"


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def country_name(code: str) -> str:
    import pycountry

    c = pycountry.countries.get(alpha_2=code)
    return getattr(c, "common_name", None) or (c.name if c else code)


def country_rows(
    works: Sequence[WorkCodes], groups: dict[str, tuple[str, ...]], collapse: bool = False
) -> list[tuple[str, str]]:
    """(region, country) rows, each country once under its first region; then no-country.
    ``collapse``: countries outside every region make one row (the heatmap)."""
    from .synthesis import primary_region

    codes = {c for w in works for c in w.countries}
    inside = {c for m in groups.values() for c in m}
    outside = codes - inside
    if collapse and outside:
        codes = codes & inside
    order = {name: i for i, name in enumerate(groups)}
    rows = sorted(
        ((primary_region(c, groups), c) for c in codes),
        key=lambda rc: (order.get(rc[0], len(order)), rc[1]),
    )
    if collapse and outside:
        rows.append(("Other", OTHER))
    if any(not w.countries for w in works):
        rows.append(("", NO_COUNTRY))
    return rows


def cell_counts(
    works: Sequence[WorkCodes],
    country: str,
    option: str,
    groups: dict[str, tuple[str, ...]] | None = None,
) -> tuple[int, int]:
    """(works, confirmed) of a country row and option; each work once per row."""
    inside = {c for m in (groups or {}).values() for c in m}

    def hit(w: WorkCodes) -> bool:
        if country == NO_COUNTRY:
            return not w.countries
        if country == OTHER:
            return any(c not in inside for c in w.countries)
        return country in w.countries

    sel = [w for w in works if option in w.options and hit(w)]
    return len(sel), sum(w.confirmed for w in sel)


def row_works(
    works: Sequence[WorkCodes], country: str, groups: dict[str, tuple[str, ...]] | None = None
) -> int:
    """Works in scope located in a country row (coded or not): the cells' denominator."""
    inside = {c for m in (groups or {}).values() for c in m}
    if country == NO_COUNTRY:
        return sum(not w.countries for w in works)
    if country == OTHER:
        return sum(any(c not in inside for c in w.countries) for w in works)
    return sum(country in w.countries for w in works)


def row_label(
    works: Sequence[WorkCodes],
    region: str,
    country: str,
    groups: dict[str, tuple[str, ...]] | None = None,
) -> str:
    n = row_works(works, country, groups)
    name = (
        f"{region} · {country} {country_name(country)}" if region and country != OTHER else country
    )
    return f"{name} ({n} work{'s' * (n != 1)})"


def plot_heatmap(
    works: Sequence[WorkCodes], f: CodingField, groups: dict[str, tuple[str, ...]], path: Path
) -> None:
    plt = _plt()
    rows = country_rows(works, groups, collapse=True)
    cols = list(f.codes)
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(cols) + 3), max(3, 0.42 * len(rows) + 1.8)))
    if rows:
        m = [[cell_counts(works, c, o, groups)[0] for o in cols] for _, c in rows]
        im = ax.imshow(m, cmap="YlOrRd", aspect="auto")
        ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=8)
        labels = [row_label(works, r, c, groups) for r, c in rows]
        ax.set_yticks(range(len(rows)), labels, fontsize=7)
        for i, (_, c) in enumerate(rows):
            for j, o in enumerate(cols):
                n, k = cell_counts(works, c, o, groups)
                if n:
                    ax.text(j, i, f"{n} ({k}✓)", ha="center", va="center", fontsize=6.5)
        fig.colorbar(im, ax=ax, label="works")
    else:
        ax.text(0.5, 0.5, "no coded works", ha="center", va="center")
    ax.set_title(f"{f.label}: works per study country (✓ = confirmed by a reviewer)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_trends(works: Sequence[WorkCodes], f: CodingField, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    per: Counter[tuple[str, int]] = Counter()
    conf: Counter[tuple[str, int]] = Counter()
    for w in works:
        if w.year:
            for o in w.options:
                per[(o, w.year)] += 1
                conf[(o, w.year)] += w.confirmed
    years = sorted({y for _, y in per})
    for i, o in enumerate(f.codes):
        color = f"C{i}"
        ax.plot(years, [per[(o, y)] for y in years], marker="o", color=color, label=o)
        if any(conf[(o, y)] for y in years):
            ax.plot(years, [conf[(o, y)] for y in years], ls=":", color=color)
    if not years:
        ax.text(0.5, 0.5, "no dated, coded works", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(fontsize=7, loc="upper left", title="solid: all · dotted: confirmed")
    ax.set_xlabel("year")
    ax.set_ylabel("works")
    ax.set_title(f"{f.label} over the years")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img src='data:image/png;base64,{data}' alt='{html.escape(alt)}'>"


def html_report(
    works: Sequence[WorkCodes],
    f: CodingField,
    groups: dict[str, tuple[str, ...]],
    title: str,
    run: Any,
    path: Path,
    images: dict[str, Path],
) -> None:
    e = html.escape
    n_conf = sum(w.confirmed for w in works)
    cols = list(f.codes)
    method = (
        f"suggestion run {run[0]} ({e(str(run[1]))}, {e(str(run[2]))}, {e(str(run[3])[:19])})"
        if run
        else "no suggestion run"
    )
    p = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Synthesis: {e(f.label)}</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;line-height:1.4}"
        "td,th{padding:.2em .5em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
        "td.n{text-align:right;white-space:nowrap}img{max-width:100%}small{color:#555}</style>"
        "</head><body>",
        f"<h1>{e(title)}</h1><h2>{e(f.label)}</h2>",
        f"<p>{len(works)} works; <b>{n_conf} confirmed by a reviewer</b>, the other "
        f"{len(works) - n_conf} carry machine suggestions only ({method}). Each cell reads "
        "<i>works (confirmed ✓)</i>: a cell of 12 with 3 confirmed rests on 3 reviewers' readings "
        "and 9 suggestions. Countries are where the study was done (never author affiliations); "
        "each country appears once, under the first protocol region that holds it.</p>",
        "<h3>By region</h3><table><tr><th>region</th>"
        + "".join(f"<th>{e(c)}</th>" for c in cols)
        + "<th>works</th></tr>",
    ]
    names = [*groups, "Other", "Unknown"]
    for name in names:
        sel = [w for w in works if name in regions.regions_of(w.countries, groups)]
        if not sel:
            continue
        cells = []
        for o in cols:
            k = [w for w in sel if o in w.options]
            cells.append(f"<td class='n'>{len(k)} ({sum(w.confirmed for w in k)} ✓)</td>")
        p.append(f"<tr><td>{e(name)}</td>{''.join(cells)}<td class='n'>{len(sel)}</td></tr>")
    p.append("</table><h3>By study country</h3><table><tr><th>region</th><th>country</th>")
    p.append("".join(f"<th>{e(c)}</th>" for c in cols) + "<th>works</th></tr>")
    for region, c in country_rows(works, groups):
        row = "".join(
            "<td class='n'>{} ({} ✓)</td>".format(*cell_counts(works, c, o)) for o in cols
        )
        label = c if c == NO_COUNTRY else f"{c} {country_name(c)}"
        total = f"<td class='n'>{row_works(works, c)}</td>"
        p.append(f"<tr><td>{e(region)}</td><td>{e(label)}</td>{row}{total}</tr>")
    p += [
        "</table>",
        "<h3>Heatmap</h3>" + _img(images["heatmap"], "works per study country and option"),
        "<h3>Over the years</h3>" + _img(images["trends"], "works per option and year"),
        "<h3>Evidence</h3><table><tr><th>work</th><th>country</th><th>year</th><th>option</th>"
        "<th>status</th><th>quote</th></tr>",
    ]
    for w in works:
        for o in w.options:
            quote, score, status = w.evidence[o]
            sc = f" {score:.2f}" if isinstance(score, float) else ""
            p.append(
                f"<tr><td>#{w.work_id} {e(w.title[:90])}</td><td>{e(', '.join(w.countries))}</td>"
                f"<td>{w.year or ''}</td><td>{e(o)}</td><td>{e(status)}<small>{sc}</small></td>"
                f"<td><small>{e(quote)}</small></td></tr>"
            )
    p.append("</table></body></html>")
    path.write_text("\n".join(p), encoding="utf-8")
