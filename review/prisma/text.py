"""Text metrics for the hand-written SVG: Helvetica advance widths and a measured word wrap."""

from __future__ import annotations

import re

FS = 12.0  # default font size

# Helvetica / Helvetica-Bold advance widths (1/1000 em) for ASCII 32..126 (standard AFM metrics)
_HELV = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778,
    722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278,
    278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)  # fmt: skip
_HELV_BOLD = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778,
    722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333,
    278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
)  # fmt: skip
NBSP = "\u00a0"


def text_width(s: str, size: float = FS, bold: bool = False) -> float:
    """Estimated advance of ``s`` in Helvetica (non-ASCII counted as a wide character)."""
    table = _HELV_BOLD if bold else _HELV
    total = 0
    for ch in s:
        c = 32 if ch == NBSP else ord(ch)
        total += table[c - 32] if 32 <= c < 127 else 600
    return total * size / 1000


def wrap_text(text: str, width: float, size: float = FS, bold: bool = False) -> list[str]:
    """Greedy word wrap by measured width; a word longer than the line is split by characters.
    ``(n = 12)`` is kept together."""
    text = re.sub(r"\(n = ([\d,]+)\)", lambda m: f"(n{NBSP}={NBSP}{m.group(1)})", text)
    lines: list[str] = []
    cur = ""
    for word in text.split(" "):
        cand = f"{cur} {word}" if cur else word
        if text_width(cand, size, bold) <= width:
            cur = cand
            continue
        if cur:
            lines.append(cur)
        cur = ""
        while text_width(word, size, bold) > width:
            k = len(word)
            while k > 1 and text_width(word[:k], size, bold) > width:
                k -= 1
            lines.append(word[:k])
            word = word[k:]
        cur = word
    lines.append(cur)
    return [ln.replace(NBSP, " ") for ln in lines]
