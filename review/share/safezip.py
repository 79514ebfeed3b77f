"""Reading untrusted zip files: names, links, sizes and checksums are never trusted.

Everything that can be checked from the zip's directory is checked when a :class:`SafeZip`
opens, before one byte is decompressed: member count (read from the end record, before the
directory itself is parsed), names, links, duplicates, every member's declared size against the
per-member and total limits, and that each member's compressed data lies inside the file.
Members are then only ever streamed, to a file on disk or into a small capped buffer, and a member
that inflates beyond what it declared is cut off at that point. Memory use does not depend on
what the bundle holds.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import BundleError
from ..hashing import sha256_file as sha256_file  # one file hash (bundles use it)

MiB = 1024**2
MAX_MEMBERS = 200_000
MAX_TOTAL_BYTES = 2 * 1024**3  # uncompressed, all members
MAX_MEMBER_BYTES = 1024**3  # uncompressed, one member
MAX_RATIO = 200  # uncompressed / compressed, per member over 1 MiB (zip bombs)
MAX_BUNDLE_RATIO = 100  # the whole bundle, once it expands beyond 16 MiB (many small bombs)
MAX_SMALL_BYTES = 64 * MiB  # members read into memory (manifest, signature)
MAX_LINE_BYTES = 32 * MiB  # one JSONL line
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    max_members: int = MAX_MEMBERS
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_member_bytes: int = MAX_MEMBER_BYTES
    max_ratio: int = MAX_RATIO
    max_bundle_ratio: int = MAX_BUNDLE_RATIO
    max_line_bytes: int = MAX_LINE_BYTES


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


def _end_record(fh: IO[bytes]) -> list[int] | None:
    """The zip's end-of-central-directory record (zip64-aware), read before the directory is.
    zipfile's reader is private: without it, [entries, size] are taken as [0, 0] and the
    same limits are applied after zipfile has parsed the directory."""
    reader = getattr(zipfile, "_EndRecData", None)
    if reader is None:
        return [0, 0, 0, 0, 0, 0]
    end = reader(fh)
    return list(end) if end else None


def _mb(n: int) -> str:
    return f"{n / MiB:.1f} MB" if n >= MiB else f"{n} bytes"


class SafeZip:
    """An untrusted zip whose directory has been checked; members are only streamed."""

    def __init__(self, path: str | Path, limits: Limits = Limits()):
        self.path, self.limits = str(path), limits
        p = self.path
        try:
            self.file_size = Path(path).stat().st_size
            with open(path, "rb") as fh:
                end = _end_record(fh)
        except FileNotFoundError:
            raise BundleError("bundle file not found", path=p)
        except OSError as e:
            raise BundleError(f"cannot read bundle ({e})", path=p)
        if not end:
            raise BundleError(
                "not a readable bundle (corrupt zip: no end of central directory)", path=p
            )
        entries, cd_size = end[4], end[5]  # _ECD_ENTRIES_TOTAL, _ECD_SIZE
        if entries > limits.max_members:
            raise BundleError(f"too many members ({entries} > {limits.max_members})", path=p)
        if cd_size > self.file_size:
            raise BundleError(
                "not a readable bundle (corrupt zip: directory beyond the file)", path=p
            )
        try:
            self.zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise BundleError(f"not a readable bundle (corrupt zip: {e})", path=p)
        try:
            self.infos = self._check_directory()
        except BaseException:
            self.zf.close()
            raise

    def _check_directory(self) -> dict[str, zipfile.ZipInfo]:
        p, lim = self.path, self.limits
        infos = self.zf.infolist()
        if len(infos) > lim.max_members:
            raise BundleError(f"too many members ({len(infos)} > {lim.max_members})", path=p)
        out: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = info.filename
            check_name(name.rstrip("/") if info.is_dir() else name, p)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise BundleError(f"member {name!r} is a symbolic link", path=p)
            if info.is_dir():
                continue
            if name in out:
                raise BundleError(f"member {name!r} appears twice", path=p)
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                # LZMA's dictionary size comes from the member header: memory an attacker picks
                raise BundleError(
                    f"member {name!r} uses compression method {info.compress_type}; bundles use"
                    " deflate or none",
                    path=p,
                )
            if info.flag_bits & 0x1:
                raise BundleError(f"member {name!r} is encrypted", path=p)
            if info.file_size > lim.max_member_bytes:
                raise BundleError(
                    f"member {name!r} declares {_mb(info.file_size)}, over the per-member limit "
                    f"of {_mb(lim.max_member_bytes)}",
                    path=p,
                )
            total += info.file_size
            if total > lim.max_total_bytes:
                raise BundleError(
                    f"bundle expands beyond the size limit of {_mb(lim.max_total_bytes)} (zip bomb?)",
                    path=p,
                )
            if info.file_size > MiB and info.file_size > lim.max_ratio * max(info.compress_size, 1):
                raise BundleError(
                    f"member {name!r} expands {info.file_size // max(info.compress_size, 1)}:1 "
                    "(zip bomb?)",
                    path=p,
                )
            if info.header_offset + info.compress_size > self.file_size:
                raise BundleError(
                    f"member {name!r} lies beyond the end of the file (corrupt)", path=p
                )
            out[name] = info
        return out

    def check_ratios(self) -> None:
        """Refuse a bundle whose members together inflate far more than real data does."""
        p, lim = self.path, self.limits
        total = sum(i.file_size for i in self.infos.values())
        packed = max(sum(i.compress_size for i in self.infos.values()), 1)
        if total > 16 * MiB and total > lim.max_bundle_ratio * packed:
            raise BundleError(
                f"bundle members expand to {_mb(total)} from {_mb(packed)} ({total // packed}:1; "
                "zip bomb?)",
                path=p,
            )

    def size(self, name: str) -> int:
        return int(self.infos[name].file_size)

    def _open(self, name: str) -> IO[bytes]:
        try:
            return self.zf.open(self.infos[name])
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as e:
            raise BundleError(f"member {name!r} is corrupt ({e})", path=self.path)

    def _chunks(self, name: str, limit: int) -> Any:
        """Yield the member's bytes, refusing it once it passes ``limit`` bytes."""
        seen = 0
        with self._open(name) as fh:
            while True:
                try:
                    chunk = fh.read(_CHUNK)
                except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                    raise BundleError(f"member {name!r} is corrupt ({e})", path=self.path)
                if not chunk:
                    return
                seen += len(chunk)
                if seen > limit:
                    raise BundleError(
                        f"member {name!r} is larger than it declares (zip bomb?)", path=self.path
                    )
                yield chunk

    def read_small(self, name: str, max_bytes: int = MAX_SMALL_BYTES) -> bytes:
        """A small member (manifest, signature) into memory, capped."""
        size = self.size(name)
        if size > max_bytes:
            raise BundleError(f"member {name!r} is too large ({_mb(size)})", path=self.path)
        return b"".join(self._chunks(name, size))

    def extract(self, name: str, dest: Path, digest: str | None = None) -> str:
        """Stream one member to ``dest``; check its size and (if given) its SHA-256. Returns it."""
        h = hashlib.sha256()
        n = 0
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "wb") as out:
            for chunk in self._chunks(name, self.size(name)):
                h.update(chunk)
                out.write(chunk)
                n += len(chunk)
        if n != self.size(name):
            raise BundleError(
                f"member {name!r} is shorter than it declares (corrupt)", path=self.path
            )
        got = h.hexdigest()
        if digest is not None and got != digest:
            raise BundleError(
                f"checksum mismatch for {name!r} (corrupt or tampered)", path=self.path
            )
        return got

    def close(self) -> None:
        self.zf.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
