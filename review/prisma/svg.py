"""Layout of the PRISMA 2020 flow diagram as a hand-written SVG (a pure function of a ``Flow``).

The layout follows the official PRISMA 2020 template for new reviews: side labels
(Identification, Screening, Included), the databases-and-registers arm on the left (main column
plus the exclusion column) and, when the review used them, other methods on the right. Boxes in a
row share a height; text is wrapped by an estimate of Helvetica's advance widths, so long source
names and reasons wrap inside their box. Only rectangles, lines, polygons and plain ``<text>``
are used, which every SVG renderer (browsers, MuPDF) draws the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from .check import pending
from .flow import Flow
from .text import FS, text_width, wrap_text

FONT = "Helvetica, Arial, sans-serif"
LH = 15.0  # line height
PAD = 8.0
INDENT = 12.0
ROW_GAP = 30.0
MARGIN = 12.0
LABEL_W = 26.0
MAIN_W = 200.0
SIDE_W = 200.0
ARROW_GAP = 36.0
ARM_GAP = 28.0

YELLOW, GREY, BLUE = "#ffd966", "#d9d9d9", "#9dc3e6"


@dataclass
class Line:
    text: str
    query: str | None = None  # the named query behind a number on this line
    indent: int = 0
    bold: bool = False


@dataclass
class Box:
    col: str
    row: int
    lines: list[Line]
    fill: str = "#ffffff"
    wrapped: list[Line] = field(default_factory=list)


def n(flow: Flow, key: str) -> str:
    return f"(n = {flow.values[key]:,})"


def _wrap(lines: list[Line], width: float) -> list[Line]:
    out: list[Line] = []
    for ln in lines:
        for part in wrap_text(ln.text, width - 2 * PAD - ln.indent * INDENT, bold=ln.bold):
            out.append(Line(part, ln.query, ln.indent, ln.bold))
    return out


def _reason_lines(flow: Flow, rows: list[tuple[str, int]], query: str) -> list[Line]:
    return [Line(f"{label} (n = {count:,})", query, indent=1) for label, count in rows]


def _boxes(flow: Flow) -> list[Box]:
    v = flow.values
    a: list[Box] = []
    ident = [Line("Records identified from:")]
    ident.append(Line(f"Databases {n(flow, 'database_results')}", "database_results"))
    for name, c in flow.reasons("database_specific_results"):
        ident.append(Line(f"{name} (n = {c:,})", "database_specific_results", indent=1))
    ident.append(Line(f"Registers {n(flow, 'register_results')}", "register_results"))
    for name, c in flow.reasons("register_specific_results"):
        ident.append(Line(f"{name} (n = {c:,})", "register_specific_results", indent=1))
    a.append(Box("A", 1, ident))
    a.append(
        Box(
            "B",
            1,
            [
                Line("Records removed before screening:"),
                Line(f"Duplicate records removed {n(flow, 'duplicates')}", "duplicates", indent=1),
                Line(
                    f"Records marked as ineligible by automation tools {n(flow, 'excluded_automatic')}",
                    "excluded_automatic",
                    indent=1,
                ),
                Line(
                    f"Records removed for other reasons {n(flow, 'excluded_other')}",
                    "excluded_other",
                    indent=1,
                ),
            ],
        )
    )
    a.append(
        Box("A", 2, [Line(f"Records screened {n(flow, 'records_screened')}", "records_screened")])
    )
    excl = [Line(f"Records excluded {n(flow, 'records_excluded')}", "records_excluded")]
    if flow.reasons_at_screening:
        excl += _reason_lines(
            flow, flow.reasons("records_excluded_reasons"), "records_excluded_reasons"
        )
    a.append(Box("B", 2, excl))
    a.append(
        Box(
            "A",
            3,
            [
                Line(
                    f"Reports sought for retrieval {n(flow, 'dbr_sought_reports')}",
                    "dbr_sought_reports",
                )
            ],
        )
    )
    a.append(
        Box(
            "B",
            3,
            [
                Line(
                    f"Reports not retrieved {n(flow, 'dbr_notretrieved_reports')}",
                    "dbr_notretrieved_reports",
                )
            ],
        )
    )
    a.append(
        Box(
            "A",
            4,
            [Line(f"Reports assessed for eligibility {n(flow, 'dbr_assessed')}", "dbr_assessed")],
        )
    )
    a.append(
        Box(
            "B",
            4,
            [Line(f"Reports excluded {n(flow, 'dbr_excluded')}", "dbr_excluded")]
            + _reason_lines(flow, flow.reasons("dbr_excluded_reasons"), "dbr_excluded_reasons"),
        )
    )
    a.append(
        Box(
            "A",
            5,
            [
                Line(f"Studies included in review {n(flow, 'new_studies')}", "new_studies"),
                Line(f"Reports of included studies {n(flow, 'new_reports')}", "new_reports"),
            ],
        )
    )
    if flow.has_other_arm:
        per = flow.other_sources()
        other = [Line("Records identified from:")]
        for cat, title in (
            ("website", "Websites"),
            ("organisation", "Organisations"),
            ("citations", "Citation searching"),
        ):
            key = f"{cat}_results" if cat != "website" else "website_results"
            other.append(Line(f"{title} {n(flow, key)}", key))
            for name, c in per.get(cat, []):
                other.append(Line(f"{name} (n = {c:,})", "other_specific_results", indent=1))
        a.append(Box("C", 1, other))
        sought = [
            Line(
                f"Reports sought for retrieval {n(flow, 'other_sought_reports')}",
                "other_sought_reports",
            )
        ]
        removed = v["other_duplicates"] + v["other_removed"]
        if removed:
            sought.append(
                Line(f"after removing {removed:,} duplicate or removed records", "other_duplicates")
            )
        a.append(Box("C", 3, sought))
        a.append(
            Box(
                "D",
                3,
                [
                    Line(
                        f"Reports not retrieved {n(flow, 'other_notretrieved_reports')}",
                        "other_notretrieved_reports",
                    )
                ],
            )
        )
        a.append(
            Box(
                "C",
                4,
                [
                    Line(
                        f"Reports assessed for eligibility {n(flow, 'other_assessed')}",
                        "other_assessed",
                    )
                ],
            )
        )
        a.append(
            Box(
                "D",
                4,
                [Line(f"Reports excluded {n(flow, 'other_excluded')}", "other_excluded")]
                + _reason_lines(
                    flow, flow.reasons("other_excluded_reasons"), "other_excluded_reasons"
                ),
            )
        )
    return a


def _columns(other: bool) -> dict[str, tuple[float, float]]:
    x = MARGIN + LABEL_W + 10
    cols = {"A": (x, MAIN_W)}
    x += MAIN_W + ARROW_GAP
    cols["B"] = (x, SIDE_W)
    x += SIDE_W
    if other:
        x += ARM_GAP
        cols["C"] = (x, MAIN_W)
        x += MAIN_W + ARROW_GAP
        cols["D"] = (x, SIDE_W)
    return cols


class _Svg:
    def __init__(self, tooltips: bool, flow: Flow):
        self.parts: list[str] = []
        self.tooltips = tooltips
        self.flow = flow

    def rect(self, x: float, y: float, w: float, h: float, fill: str, rx: float = 0) -> None:
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{rx:.0f}" fill="{fill}"'
            ' stroke="#000000" stroke-width="1"/>'
        )

    def text(self, x: float, y: float, s: str, *, bold: bool = False, anchor: str = "start",
             query: str | None = None, rotate: bool = False, size: float = FS) -> None:  # fmt: skip
        weight = ' font-weight="bold"' if bold else ""
        rot = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
        el = (
            f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size:g}"{weight}'
            f' text-anchor="{anchor}"{rot}>{escape(s)}</text>'
        )
        if self.tooltips and query:
            tip = f"{query}: {self.flow.description(query)}\n{self.flow.sql[query]}"
            el = f"<g><title>{escape(tip)}</title>{el}</g>"
        self.parts.append(el)

    def arrow(self, pts: list[tuple[float, float]]) -> None:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        self.parts.append(
            f'<polyline points="{path}" fill="none" stroke="#000000" stroke-width="1.2"/>'
        )
        (x0, y0), (x1, y1) = pts[-2], pts[-1]
        s = 7.0
        if x0 == x1:  # vertical
            d = 1 if y1 > y0 else -1
            head = [(x1, y1), (x1 - s / 2, y1 - d * s), (x1 + s / 2, y1 - d * s)]
        else:
            d = 1 if x1 > x0 else -1
            head = [(x1, y1), (x1 - d * s, y1 - s / 2), (x1 - d * s, y1 + s / 2)]
        hp = " ".join(f"{x:.1f},{y:.1f}" for x, y in head)
        self.parts.append(f'<polygon points="{hp}" fill="#000000"/>')


def _text_block(
    svg: _Svg, x: float, y: float, w: float, h: float, lines: list[Line], center: bool
) -> None:
    top = y + (h - len(lines) * LH) / 2 + FS - 1
    for i, ln in enumerate(lines):
        ty = top + i * LH
        if center and not ln.indent:
            svg.text(x + w / 2, ty, ln.text, bold=ln.bold, anchor="middle", query=ln.query)
        else:
            svg.text(x + PAD + ln.indent * INDENT, ty, ln.text, bold=ln.bold, query=ln.query)


def _footer(flow: Flow, width: float) -> list[str]:
    notes: list[str] = []
    codes = {
        label
        for k in ("dbr_excluded_reasons", "other_excluded_reasons")
        for label, _ in flow.reasons(k)
    }
    if flow.reasons_at_screening:
        codes |= {label for label, _ in flow.reasons("records_excluded_reasons")}
    legend = [f"{c}: {flow.reason_text[c]}" for c in sorted(codes) if c in flow.reason_text]
    if legend:
        notes.append("Exclusion reasons. " + "; ".join(legend) + ".")
    todo = pending(flow)
    if todo:
        notes.append("Review in progress: " + "; ".join(todo) + ".")
    return [part for note in notes for part in wrap_text(note, width - 2 * MARGIN, size=FS - 2)]


def to_svg(flow: Flow, *, tooltips: bool = False) -> str:
    """The diagram as a standalone SVG document (``tooltips``: ``<title>`` naming each query)."""
    other = flow.has_other_arm
    cols = _columns(other)
    width = max(x + w for x, w in cols.values()) + MARGIN
    boxes = _boxes(flow)
    for b in boxes:
        b.wrapped = _wrap(b.lines, cols[b.col][1])
    heads = {"A": "Identification of new studies via databases and registers"}
    if other:
        heads["C"] = "Identification of new studies via other methods"
    head_w = {
        k: cols["B" if k == "A" else "D"][0] + cols["B" if k == "A" else "D"][1] - cols[k][0]
        for k in heads
    }
    head_lines = {k: _wrap([Line(t, bold=True)], head_w[k]) for k, t in heads.items()}
    heights = {0: max(len(v) for v in head_lines.values()) * LH + 2 * PAD}
    for r in range(1, 6):
        heights[r] = max(
            [len(b.wrapped) * LH + 2 * PAD for b in boxes if b.row == r] + [LH + 2 * PAD]
        )
    for r, label in ((1, "Identification"), (5, "Included")):  # room for the rotated side label
        heights[r] = max(heights[r], text_width(label, bold=True) + 2 * PAD)
    ys = {0: MARGIN}
    for r in range(1, 6):
        ys[r] = ys[r - 1] + heights[r - 1] + (ROW_GAP if r > 1 else 14)
    body_bottom = ys[5] + heights[5]
    foot = _footer(flow, width)
    height = body_bottom + (14 + len(foot) * 13 if foot else 0) + MARGIN

    svg = _Svg(tooltips, flow)
    svg.rect(0, 0, width, height, "#ffffff")
    svg.parts[-1] = svg.parts[-1].replace('stroke="#000000"', 'stroke="none"')
    for k, lines in head_lines.items():
        svg.rect(cols[k][0], ys[0], head_w[k], heights[0], YELLOW if k == "A" else GREY, rx=6)
        _text_block(svg, cols[k][0], ys[0], head_w[k], heights[0], lines, center=True)
    for label, r0, r1 in (("Identification", 1, 1), ("Screening", 2, 4), ("Included", 5, 5)):
        y0, y1 = ys[r0], ys[r1] + heights[r1]
        svg.rect(MARGIN, y0, LABEL_W, y1 - y0, BLUE, rx=6)
        svg.text(
            MARGIN + LABEL_W / 2 + FS / 2 - 1,
            (y0 + y1) / 2,
            label,
            bold=True,
            anchor="middle",
            rotate=True,
        )
    where: dict[tuple[str, int], tuple[float, float, float, float]] = {}
    for b in boxes:
        x, w = cols[b.col]
        y, h = ys[b.row], heights[b.row]
        where[(b.col, b.row)] = (x, y, w, h)
        svg.rect(x, y, w, h, b.fill)
        _text_block(svg, x, y, w, h, b.wrapped, center=b.col in "AC" and len(b.wrapped) <= 3)
    for main, side in (("A", "B"), ("C", "D")):
        rows = sorted(r for c, r in where if c == main)
        for r0, r1 in zip(rows, rows[1:], strict=False):
            x, y, w, h = where[(main, r0)]
            svg.arrow([(x + w / 2, y + h), (x + w / 2, ys[r1])])
        for r in rows:
            if (side, r) in where:
                x, y, w, h = where[(main, r)]
                svg.arrow([(x + w, y + h / 2), (where[(side, r)][0], y + h / 2)])
    if other and ("C", 4) in where:
        x, y, w, h = where[("C", 4)]
        ax, ay, aw, ah = where[("A", 5)]
        svg.arrow([(x + w / 2, y + h), (x + w / 2, ay + ah / 2), (ax + aw, ay + ah / 2)])
    for i, line in enumerate(foot):
        svg.text(MARGIN, body_bottom + 14 + (i + 1) * 13 - 3, line, size=FS - 2)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}">\n'
        "<title>PRISMA 2020 flow diagram</title>\n" + "\n".join(svg.parts) + "\n</svg>\n"
    )
