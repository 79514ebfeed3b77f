"""Coding (data extraction): a codebook in the protocol, machine suggestions with evidence,
reviewers' codes in an append-only log, agreement, exports and the regional synthesis.

Modules: ``codebook`` (pure: the protocol's ``[coding]`` section), ``text`` (a work's sentences,
with pages), ``suggest`` (zero-shot / few-shot scores, logged runs), ``store`` (the coding log:
current, confirmed and best codes, history, undo, conflicts, resolve), ``agreement`` (kappa per
option), ``export`` (``review codes``), ``synthesis`` (tables, plots, report.html).
"""

from ..errors import CodingError  # defined in the one exception tree; imported from here too

__all__ = ["CodingError"]
