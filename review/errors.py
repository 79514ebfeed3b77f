"""The exception tree. Every error the library raises on purpose is a ``ReviewError``.

ReviewError
├── ProtocolError        a protocol file is missing, unparsable or invalid (CLI exit 2)
├── WorkspaceError       the SQLite workspace cannot be opened, is too new, or is inconsistent
├── HarvestError         a source could not be read (OpenAlex, an import file, a PDF, a web page)
│   └── FormatError      a file is malformed; names the file and the record/line/page
├── DedupError           deduplication input or an undo/merge request is invalid
├── ScreenError          a screening action is invalid (unknown work, reason, stage)
├── PrismaError          the PRISMA numbers break an identity, or an output cannot be written
├── ThemeError           embeddings/clustering cannot run (missing extra, too few records)
├── CodingError          a coding action is invalid (unknown field, option, work, reviewer input)
└── BundleError          a bundle is corrupt, tampered with, unsafe or from a newer schema

The CLI turns these into a message on stderr and a non-zero exit code (``exit_code``).
"""

from __future__ import annotations


class ReviewError(Exception):
    """Base class for every deliberate error in ``review``."""

    exit_code: int = 1

    def __init__(self, message: str, *, path: str | None = None, where: str | None = None):
        self.message = message
        self.path = path
        self.where = where
        super().__init__(self.__str__())

    def __str__(self) -> str:
        prefix = ""
        if self.path:
            prefix = f"{self.path}"
            if self.where:
                prefix += f":{self.where}"
            prefix += ": "
        elif self.where:
            prefix = f"{self.where}: "
        return prefix + self.message


class ProtocolError(ReviewError):
    exit_code = 2


class WorkspaceError(ReviewError):
    pass


class HarvestError(ReviewError):
    pass


class FormatError(HarvestError):
    pass


class DedupError(ReviewError):
    pass


class ScreenError(ReviewError):
    pass


class PrismaError(ReviewError):
    pass


class ThemeError(ReviewError):
    pass


class BundleError(ReviewError):
    pass


class CodingError(ReviewError):
    """A coding action is invalid (unknown field, option, work or reviewer input)."""
