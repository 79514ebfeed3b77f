"""PRISMA 2020 flow diagram: every number a named SQL query over the workspace logs.

``counts(ws)`` gives the PRISMA2020 template's numbers (``review status`` shows them);
``compute(ws)`` gives the whole ``Flow`` (numbers, per-source and per-reason lines, the SQL);
``check.check(flow)`` verifies the arithmetic; ``render.write(flow, path)`` draws SVG, PDF, PNG,
HTML or the PRISMA2020 R package's CSV. How the logs map onto the boxes: ``queries.py``.
"""

from __future__ import annotations

from .flow import COUNT_KEYS, Flow, compute, counts, explain

__all__ = ["COUNT_KEYS", "Flow", "compute", "counts", "explain"]
