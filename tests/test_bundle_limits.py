"""Bounded resources: a small hostile bundle cannot make inspect or import use much memory.

Peak memory is measured in a fresh subprocess that runs the real CLI: the whole process's
high-water mark. On Linux it is ``VmHWM`` from ``/proc/self/status``, because
``getrusage().ru_maxrss`` of a child also counts the pages it shared with the (large) pytest process
it was forked from; elsewhere ``resource.getrusage(RUSAGE_SELF).ru_maxrss``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_share_trust import groups, snapshot  # noqa: F401 - fixture

from review.errors import BundleError
from review.share.bundle import inspect_bundle
from review.share.merge import import_bundle
from review.share.safezip import Limits

LIMIT_MB = 250
ZERO_MB = 1_000_000  # just under the old "skip the ratio check below 1 MB" threshold

PEAK = """
def peak_kib():
    try:
        with open("/proc/self/status") as fh:
            return int(next(x for x in fh if x.startswith("VmHWM:")).split()[1])
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
"""
RUN = (
    PEAK
    + """
import sys
from review.cli import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
    rc = 0
except BaseException as e:  # noqa: BLE001
    print("ERROR", e, file=sys.stderr)
    rc = 1
print("MAXRSS", peak_kib(), file=sys.stderr)
sys.exit(rc)
"""
)


def peak_mb(*args: str) -> tuple[float, str]:
    p = subprocess.run(
        [sys.executable, "-c", RUN, *args], capture_output=True, text=True, timeout=300
    )
    line = [x for x in p.stderr.splitlines() if x.startswith("MAXRSS")][-1]
    return int(line.split()[1]) / 1024, p.stderr  # Linux reports KiB


def padded(good: Path, dst: Path, n: int, listed: bool) -> Path:
    """The real bundle plus ``n`` zero-filled members of ~1 MB (a 0.7 MB file for n = 600)."""
    with zipfile.ZipFile(good) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members.pop("manifest.json"))
    members.pop("manifest.sig", None)
    zero = b"\0" * ZERO_MB
    names = [f"pad{i:04d}.jsonl" for i in range(n)]
    if listed:  # the sender recomputes the checksums: only size checks can stop this
        digest = hashlib.sha256(zero).hexdigest()
        manifest["members"].update(dict.fromkeys(names, digest))
        if "sizes" in manifest:
            manifest["sizes"].update(dict.fromkeys(names, ZERO_MB))
    manifest["bundle_version"] = 1
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
        for name in names:
            zf.writestr(name, zero)
    return dst


@pytest.mark.parametrize("listed", [True, False], ids=["listed", "unlisted"])
def test_many_small_zero_members_stay_under_the_memory_limit(groups, listed):  # noqa: F811
    _, maputo, good, tmp = groups
    bomb = padded(good, tmp / "pad.reviewbundle", 600, listed)
    assert bomb.stat().st_size < 2_000_000
    before = snapshot(maputo)
    maputo.close()
    for args in (["bundle", "inspect", str(bomb)], ["bundle", "import", str(bomb), "--db", str(maputo.path)]):  # fmt: skip
        mb, err = peak_mb(*args)
        assert "ERROR" in err, err  # refused ...
        assert mb < LIMIT_MB, f"{args[1]} peaked at {mb:.0f} MB"  # ... without filling memory
        assert ("not listed" if not listed else "expand") in err, err
    from review.store import Workspace

    assert snapshot(Workspace.open(maputo.path)) == before


def test_declared_sizes_are_checked_before_decompressing(groups):  # noqa: F811
    _, maputo, good, tmp = groups
    # a member that lies about its size in the manifest: refused from the directory alone
    with zipfile.ZipFile(good) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members.pop("manifest.json"))
    members.pop("manifest.sig", None)
    manifest["sizes"]["records.jsonl"] = 10
    manifest["bundle_version"] = 1
    bad = tmp / "liar.reviewbundle"
    with zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(BundleError, match="records.jsonl.*size"):
        inspect_bundle(bad)
    # per-member and total limits apply to what a member declares
    with pytest.raises(BundleError, match="over the per-member limit of 1000 bytes"):
        import_bundle(maputo, good, limits=Limits(max_member_bytes=1000))
    with pytest.raises(BundleError, match="limit"):
        import_bundle(maputo, good, limits=Limits(max_total_bytes=10_000))


def test_members_that_pass_the_checks_are_streamed_not_held(groups):  # noqa: F811
    """With the ratio check relaxed, 400 MB of members are extracted, to disk, not to memory."""
    _, _, good, tmp = groups
    big = padded(good, tmp / "big.reviewbundle", 400, listed=True)
    code = PEAK + (
        "import sys\n"
        "from review.share.bundle import open_bundle\n"
        "from review.share.safezip import Limits\n"
        "with open_bundle(sys.argv[1], None, Limits(max_bundle_ratio=10**6)) as b:\n"
        "    n = sum(b.sizes.values())\n"
        "    assert sum(p.stat().st_size for p in b.dir.iterdir() if p.is_file()) == n\n"
        "print(n, peak_kib())\n"
    )
    p = subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    n, kib = map(int, p.stdout.split())
    assert n > 400_000_000 and kib / 1024 < LIMIT_MB


def test_only_deflate_or_stored_members(groups):  # noqa: F811
    """LZMA members choose their own dictionary size (memory) in their header: refused unread."""
    _, maputo, good, tmp = groups
    with zipfile.ZipFile(good) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    bad = tmp / "lzma.reviewbundle"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in members.items():
            method = zipfile.ZIP_LZMA if name == "records.jsonl" else zipfile.ZIP_DEFLATED
            zf.writestr(name, data, compress_type=method)
    before = snapshot(maputo)
    with pytest.raises(BundleError, match="records.jsonl.*compression method 14"):
        import_bundle(maputo, bad)
    assert snapshot(maputo) == before


def test_bundles_and_the_file_store_hash_files_with_one_function(tmp_path):
    """A bundle's sha256 and a stored PDF's sha256 come from one function (harvest.documents),
    streamed in chunks: the digest of a file longer than one chunk is the digest of its bytes."""
    from review.harvest import documents
    from review.share import safezip

    data = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB chunk
    path = tmp_path / "member.bin"
    path.write_bytes(data)
    want = hashlib.sha256(data).hexdigest()
    assert safezip.sha256_file is documents.sha256_file
    assert documents.sha256_file(path) == documents.sha256_file(str(path)) == want
