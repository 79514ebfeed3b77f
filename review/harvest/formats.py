"""The file formats `review import` reads: one list, light enough for the CLI's --help."""

from __future__ import annotations

FILE_FORMATS: tuple[str, ...] = (
    "ris",
    "bibtex",
    "medline",
    "wos",
    "endnote-xml",
    "endnote",
    "csv",
    "xlsx",
    "json",
    "reflist",
)
