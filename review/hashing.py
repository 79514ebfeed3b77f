"""One file hash for the file store and bundles (standard library only, cheap to import)."""

from __future__ import annotations

import hashlib
from pathlib import Path

BUF = 1 << 20  # read files in 1 MiB chunks


def sha256_file(path: str | Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB chunks (the file store's names, bundles)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(BUF), b""):
            h.update(chunk)
    return h.hexdigest()
