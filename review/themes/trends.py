"""Region × theme × year counts: which themes appear where and when.

A work counts once per (region, theme, year) even when it names several countries of a region,
and once per (country, theme, year) for each of its study countries. Works without a study
country fall in region 'Unknown'; countries outside every protocol region in 'Other'.
Outliers (theme -1) are left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from .regions import regions_of

Key = tuple[str, str, str, str]  # region, country ('' = whole region), theme, year ('' = unknown)


def trend_counts(
    themes: Mapping[int, str],
    years: Mapping[int, int | None],
    countries: Mapping[int, Sequence[str]],
    groups: Mapping[str, tuple[str, ...]],
) -> Counter[Key]:
    """``themes`` = {work id: theme label}; returns counts keyed by (region, country, theme, year)."""
    out: Counter[Key] = Counter()
    for wid, theme in themes.items():
        year = str(years.get(wid) or "")
        codes = list(countries.get(wid, ()))
        for region in regions_of(codes, dict(groups)):
            out[(region, "", theme, year)] += 1
            for c in codes:
                inside = c in groups.get(region, ()) or (
                    region == "Other" and not any(c in m for m in groups.values())
                )
                if inside:
                    out[(region, c, theme, year)] += 1
    return out


def rows(counts: Counter[Key]) -> list[dict[str, object]]:
    """trends.csv rows, sorted by region, country, theme, year."""
    return [
        {"region": r, "country": c, "theme": t, "year": y, "count": n}
        for (r, c, t, y), n in sorted(counts.items())
    ]


def matrix(counts: Counter[Key]) -> tuple[list[str], list[str], list[list[int]]]:
    """Rows (regions, then their member countries as 'REGION · CC'; 'Other' stays one row), theme columns, counts over all years."""
    agg: Counter[tuple[str, str]] = Counter()
    themes: set[str] = set()
    for (r, c, t, _), n in counts.items():
        if c and r == "Other":
            continue  # countries outside the protocol's regions: one 'Other' row
        agg[(f"{r} · {c}" if c else r, t)] += n
        themes.add(t)
    row_names = sorted({k[0] for k in agg}, key=lambda s: (s.split(" · ")[0], " · " in s, s))
    cols = sorted(
        themes, key=lambda t: -sum(n for (rn, tt), n in agg.items() if tt == t and " · " not in rn)
    )
    return row_names, cols, [[agg.get((rn, t), 0) for t in cols] for rn in row_names]
