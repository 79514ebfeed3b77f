"""Reading untrusted zip files: names, links, sizes and checksums are never trusted."""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BundleError

MAX_MEMBERS = 200_000
MAX_TOTAL_BYTES = 2 * 1024**3  # uncompressed
MAX_RATIO = 200  # uncompressed / compressed, per member (zip bombs)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


@dataclass(frozen=True)
class Limits:
    max_members: int = MAX_MEMBERS
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_ratio: int = MAX_RATIO


def check_name(name: str, path: str) -> None:
    """Reject absolute paths, `..`, backslashes, drive letters and odd characters."""
    if (
        not name
        or name.startswith(("/", "\\"))
        or "\\" in name
        or ":" in name
        or any(part in ("", ".", "..") for part in name.split("/"))
        or not _SAFE_NAME.match(name)
    ):
        raise BundleError(
            f"unsafe member name {name!r} (absolute path, '..' or odd characters)", path=path
        )


def read_members(path: str | Path, limits: Limits = Limits()) -> dict[str, bytes]:
    """All members of a zip as bytes, after checking names, links, counts and sizes."""
    p = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleError("bundle file not found", path=p)
    except (zipfile.BadZipFile, OSError) as e:
        raise BundleError(f"not a readable bundle (corrupt zip: {e})", path=p)
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise BundleError(f"too many members ({len(infos)} > {limits.max_members})", path=p)
        total = 0
        out: dict[str, bytes] = {}
        for info in infos:
            check_name(info.filename, p)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise BundleError(f"member {info.filename!r} is a symbolic link", path=p)
            if info.is_dir():
                continue
            if info.filename in out:
                raise BundleError(f"member {info.filename!r} appears twice", path=p)
            if info.file_size > limits.max_total_bytes - total:
                raise BundleError("bundle expands beyond the size limit (zip bomb?)", path=p)
            if (
                info.compress_size
                and info.file_size / info.compress_size > limits.max_ratio
                and info.file_size > 1_000_000
            ):
                raise BundleError(
                    f"member {info.filename!r} compresses {info.file_size // info.compress_size}:1 (zip bomb?)",
                    path=p,
                )
            data = bytearray()
            try:
                with zf.open(info) as fh:
                    while chunk := fh.read(1 << 20):
                        data += chunk
                        if len(data) > info.file_size or total + len(data) > limits.max_total_bytes:
                            raise BundleError(
                                f"member {info.filename!r} is larger than it declares (zip bomb?)",
                                path=p,
                            )
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise BundleError(f"member {info.filename!r} is corrupt ({e})", path=p)
            total += len(data)
            out[info.filename] = bytes(data)
        return out


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
