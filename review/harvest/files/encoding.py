"""Read export files as text whatever their encoding: UTF-8 (with or without BOM), UTF-16/32,
cp1252, GBK and the rest that charset-normalizer recognises."""

from __future__ import annotations

import codecs
from pathlib import Path

from ...errors import FormatError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


CANDIDATES = ("cp1252", "gb18030", "big5", "shift_jis")


def detect_encoding(data: bytes) -> str:
    """The most likely encoding of ``data`` (a codec name Python knows)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    sample = data[:4000]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without a BOM: the NULs sit on the high byte of ASCII characters
        even = sample[0::2].count(b"\x00")
        odd = sample[1::2].count(b"\x00")
        return "utf-16-be" if even > odd else "utf-16-le"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # a short list keeps short CJK files from being read as Korean and Latin ones as cp1250
    best = from_bytes(data, cp_isolation=list(CANDIDATES)).best()
    if best is not None:
        return str(best.encoding)
    return "cp1252"


def decode(data: bytes, path: str | Path = "<bytes>") -> tuple[str, str]:
    """Decode bytes to text; returns (text, encoding). Raises FormatError for binary data."""
    enc = detect_encoding(data)
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError):
        enc = "cp1252"
        text = data.decode(enc, errors="replace")
    if "\x00" in text:
        raise FormatError("binary data, not a text export", path=str(path))
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text, enc


def read_text(path: str | Path) -> tuple[str, str]:
    """The text of a file and the encoding it was read with."""
    text, enc, _warnings = read_text_checked(path)
    return text, enc


_SINGLE_BYTE = ("cp1252", "latin-1", "latin_1", "iso8859-1", "cp1250", "windows-1252")


def mixed_utf8(data: bytes, path: str | Path) -> tuple[str, list[str]] | None:
    """Text of a file that is UTF-8 in some lines and cp1252 in others (records appended from
    another export), decoded line by line; None when the file is not mixed."""
    lines = data.split(b"\n")
    bad: set[int] = set()
    good = 0
    for i, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad.add(i)
    if not bad or not good:
        return None
    legacy = detect_encoding(b"\n".join(lines[i] for i in sorted(bad)))
    if legacy.lower() not in _SINGLE_BYTE:  # GBK/Big5 lines can pass as UTF-8 by chance
        return None
    text = "\n".join(
        ln.decode(legacy, errors="replace") if i in bad else ln.decode("utf-8")
        for i, ln in enumerate(lines)
    )
    nums = [i + 1 for i in sorted(bad)]
    where = ", ".join(f"line {n}" for n in nums[:5]) + (" ..." if len(nums) > 5 else "")
    warning = (
        f"{path}: mixed encodings: {len(nums)} line(s) are not UTF-8 ({where}); read those as "
        f"{legacy} and the other {good} non-ASCII line(s) as UTF-8 - check them"
    )
    return text, [warning]


def read_text_checked(path: str | Path) -> tuple[str, str, list[str]]:
    """The text of a file, its encoding and warnings (mixed encodings)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise FormatError(f"cannot read file ({e.strerror or e})", path=str(p)) from e
    utf16_32 = tuple(bom for bom, name in _BOMS if name != "utf-8-sig")
    if not data.startswith(utf16_32) and b"\x00" not in data[:4000]:
        mixed = mixed_utf8(data.removeprefix(codecs.BOM_UTF8), p)
        if mixed is not None:
            text, warnings = mixed
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            return text, "utf-8+legacy", warnings
    text, enc = decode(data, p)
    return text, enc, []
