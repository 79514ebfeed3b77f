"""Harvesters: one adapter per kind of source (OpenAlex, files, PDFs, web pages)."""
