"""Group signing keys: an Ed25519 key pair per group, and the public keys a workspace trusts.

A group's private key lives in the user's config directory (``$REVIEW_CONFIG_DIR``, else
``$XDG_CONFIG_HOME/review``, else ``~/.config/review``) as ``keys/<group>.key`` (PKCS#8 PEM, mode
0600); its public key beside it as ``keys/<group>.pub``, one line::

    review-ed25519 <base64 of the 32-byte key> <group>

which is the file a group sends to the groups it shares with (``review keys trust FILE``). A key's
fingerprint is 16 base32 characters of its SHA-256 in four groups (``K7QD-2MXA-...``): short
enough to read over the phone to check that the file came from who it says.

A bundle's ``manifest.sig`` signs the exact bytes of its ``manifest.json`` (which lists every
member's SHA-256 and size), so one signature covers the whole bundle.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BundleError
from ..paths import user_config_dir

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ..store import Workspace

PUBLIC_PREFIX = "review-ed25519"
ALGORITHM = "ed25519"
_GROUP_FILE_RE = re.compile(r"^\w[\w .-]{0,63}$")


def config_dir() -> Path:
    """Where the keys live: ``$REVIEW_CONFIG_DIR``, else the user's review directory."""
    env = os.environ.get("REVIEW_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    return user_config_dir()


def key_paths(group: str) -> tuple[Path, Path]:
    """(private, public) key files of ``group`` in the config directory."""
    if not _GROUP_FILE_RE.match(group):
        raise BundleError(f"group name {group!r} cannot name a key file")
    d = config_dir() / "keys"
    stem = group.replace(" ", "_")
    return d / f"{stem}.key", d / f"{stem}.pub"


def fingerprint(public_raw: bytes) -> str:
    """16 base32 characters of the key's SHA-256, in four groups of four (80 bits)."""
    b32 = base64.b32encode(hashlib.sha256(public_raw).digest()).decode()[:16]
    return "-".join(b32[i : i + 4] for i in range(0, 16, 4))


def new_private_key() -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_line(group: str, public_raw: bytes) -> str:
    return f"{PUBLIC_PREFIX} {base64.b64encode(public_raw).decode()} {group}\n"


def generate_key(group: str, force: bool = False) -> dict[str, str]:
    """Make ``group``'s key pair; refuses to replace an existing one unless ``force``."""
    from cryptography.hazmat.primitives import serialization

    priv_path, pub_path = key_paths(group)
    if priv_path.exists() and not force:
        raise BundleError(
            f"group {group!r} already has a key (use --force to replace it; groups that trust the"
            " old key must then trust the new one)",
            path=str(priv_path),
        )
    priv_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = new_private_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = priv_path.with_name(priv_path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.replace(tmp, priv_path)
    raw = _raw_public(key)
    pub_path.write_text(public_line(group, raw), encoding="utf-8")
    return {
        "group": group,
        "fingerprint": fingerprint(raw),
        "private_key": str(priv_path),
        "public_key": str(pub_path),
    }


def load_private_key(group: str) -> Ed25519PrivateKey | None:
    """``group``'s private key, or None when it has none. Refuses a key others can read."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    priv_path, _ = key_paths(group)
    if not priv_path.is_file():
        return None
    mode = stat.S_IMODE(priv_path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise BundleError(
            f"private key is readable by others (mode {mode:o}); run chmod 0600 on it",
            path=str(priv_path),
        )
    try:
        key = serialization.load_pem_private_key(priv_path.read_bytes(), password=None)
    except (ValueError, TypeError) as e:
        raise BundleError(f"not a private key ({e})", path=str(priv_path))
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError("not an Ed25519 private key", path=str(priv_path))
    return key


def signature_doc(key: Ed25519PrivateKey, manifest: bytes, group: str) -> bytes:
    """The ``manifest.sig`` member: the signer's public key and its signature of the manifest."""
    raw = _raw_public(key)
    doc = {
        "algorithm": ALGORITHM,
        "group": group,
        "public_key": base64.b64encode(raw).decode(),
        "fingerprint": fingerprint(raw),
        "signature": base64.b64encode(key.sign(manifest)).decode(),
    }
    return json.dumps(doc, indent=1).encode()


def parse_public(text: str, path: str) -> tuple[str, bytes]:
    """(group, raw public key) from a ``.pub`` file's line."""
    parts = text.strip().split(" ", 2)
    if len(parts) != 3 or parts[0] != PUBLIC_PREFIX:
        raise BundleError(
            f"not a review public key (expected '{PUBLIC_PREFIX} KEY GROUP')", path=path
        )
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BundleError("the public key is not 32 bytes of base64", path=path)
    group = parts[2].strip()
    if not _GROUP_FILE_RE.match(group):
        raise BundleError(f"invalid group name {group!r} in the public key", path=path)
    return group, raw


META_KEY = "trusted_keys"


def _load_trusted(ws: Workspace) -> list[dict[str, Any]]:
    text = ws.get_meta(META_KEY)
    return list(json.loads(text)) if text else []


def trust_key(ws: Workspace, path: str | Path, group: str | None = None) -> dict[str, Any]:
    """Trust a group's public key file in this workspace (bundles signed by it are 'trusted').

    Trusted keys are kept in the workspace's ``meta`` table (key ``trusted_keys``, a JSON list)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BundleError(f"cannot read public key ({e})", path=str(p))
    g, raw = parse_public(text, str(p))
    g = group or g
    fp = fingerprint(raw)
    from ..store import now

    with ws.transaction():
        keys = _load_trusted(ws)
        known = next((k for k in keys if k["fingerprint"] == fp), None)
        if known and known["group"] != g:
            raise BundleError(
                f"key {fp} is already trusted for group {known['group']!r}", path=str(p)
            )
        if known is None:
            keys.append({
                "group": g, "fingerprint": fp, "public_key": base64.b64encode(raw).decode(),
                "added_at": now(), "file": p.name,
            })  # fmt: skip
            ws.set_meta(META_KEY, json.dumps(keys))
    return {"group": g, "fingerprint": fp, "already_trusted": known is not None}


def forget_key(ws: Workspace, fp: str) -> dict[str, Any]:
    """Stop trusting the key with fingerprint ``fp``."""
    with ws.transaction():
        keys = _load_trusted(ws)
        gone = [k for k in keys if k["fingerprint"] == fp.upper()]
        if not gone:
            raise BundleError(f"no trusted key has fingerprint {fp}")
        ws.set_meta(META_KEY, json.dumps([k for k in keys if k["fingerprint"] != fp.upper()]))
    return {k: gone[0][k] for k in ("group", "fingerprint")}


def trusted_keys(ws: Workspace) -> list[dict[str, Any]]:
    return sorted(
        ({k: v for k, v in key.items() if k != "public_key"} for key in _load_trusted(ws)),
        key=lambda k: (k["group"], k["added_at"]),
    )


@dataclass(frozen=True)
class Signature:
    """What a bundle's signature says: status is 'trusted', 'unknown' or 'unsigned'."""

    status: str
    group: str | None = None
    fingerprint: str | None = None

    @property
    def text(self) -> str:
        if self.status == "trusted":
            return f"signed by {self.group} (trusted)"
        if self.status == "unknown":
            return "signed by an unknown key"
        return "unsigned"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "group": self.group, "fingerprint": self.fingerprint,
            "text": self.text,
        }  # fmt: skip


def verify(
    manifest: bytes, sig: bytes | None, group: str, ws: Workspace | None, path: str
) -> Signature:
    """Check ``manifest.sig`` against the manifest and the workspace's trusted keys.

    A signature that does not verify is refused; so is a bundle claiming a group this workspace
    holds a trusted key for, signed by any other key. An unknown key is reported, not refused
    (``[sharing] require_signed`` refuses it at import).
    """
    trusted = _trusted_by_group(ws)
    if sig is None:
        if group in trusted:
            raise BundleError(
                f"bundle claims group {group!r}, whose key this workspace trusts, but is unsigned",
                path=path,
            )
        return Signature("unsigned")
    try:
        doc = json.loads(sig)
        if not isinstance(doc, dict) or doc.get("algorithm") != ALGORITHM:
            raise ValueError("unknown algorithm")
        raw = base64.b64decode(str(doc["public_key"]), validate=True)
        signature = base64.b64decode(str(doc["signature"]), validate=True)
        if len(raw) != 32 or len(signature) != 64:
            raise ValueError("wrong key or signature length")
    except (ValueError, KeyError) as e:
        raise BundleError(f"manifest.sig is malformed ({e})", path=path)
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    fp = fingerprint(raw)
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, manifest)
    except InvalidSignature:
        raise BundleError(
            f"bad signature: manifest.json was changed after it was signed (key {fp})", path=path
        )
    owner = next((g for g, fps in trusted.items() if fp in fps), None)
    if owner is not None and owner != group:
        raise BundleError(
            f"bundle claims group {group!r} but is signed by {owner!r}'s trusted key {fp}",
            path=path,
        )
    if owner is None and group in trusted:
        raise BundleError(
            f"bundle claims group {group!r} but is not signed by its trusted key "
            f"({', '.join(sorted(trusted[group]))}); signed by {fp}",
            path=path,
        )
    return Signature("trusted" if owner else "unknown", owner, fp)


def trusted_groups(ws: Workspace) -> set[str]:
    return set(_trusted_by_group(ws))


def _trusted_by_group(ws: Workspace | None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if ws is None:
        return out
    for k in _load_trusted(ws):
        out.setdefault(k["group"], set()).add(k["fingerprint"])
    return out
