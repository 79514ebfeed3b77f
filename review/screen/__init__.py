"""Screening: the eligible queue per stage, the decision actions, keyword highlights, the TUI.

``queue`` (what to show next, progress), ``actions`` (decide, undo, note, tag, attach a PDF,
mark not retrieved, history), ``highlight`` (keyword spans), ``priority``/``stopping`` (active
learning) and ``tui/`` (the Textual app, the only importer of textual).
"""
