"""Signed bundles: group key pairs, trusted public keys per workspace, and what inspect/import say."""

from __future__ import annotations

import hashlib
import json
import re
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_share_trust import groups, refused  # noqa: F401 - fixture

from review import protocol
from review.cli import cli
from review.errors import BundleError
from review.share import keys
from review.share.bundle import export_bundle, inspect_bundle
from review.share.merge import import_bundle


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private keys go to a tmp config dir, never the real ~/.config of whoever runs the tests."""
    d = tmp_path / "config"
    monkeypatch.setenv("REVIEW_CONFIG_DIR", str(d))
    return d


def run(*args: str) -> str:
    r = CliRunner().invoke(cli, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def signed(groups, tmp: Path) -> tuple[Path, dict]:  # noqa: F811
    lusaka = groups[0]
    info = keys.generate_key("lusaka")
    out = tmp / "signed.reviewbundle"
    export_bundle(lusaka, out, group="lusaka", decisions=True)
    return out, info


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    return path


def rename_group(src: Path, dst: Path, group: str) -> Path:
    m = members_of(src)
    manifest = json.loads(m["manifest.json"])
    manifest["group"] = group
    m["manifest.json"] = json.dumps(manifest).encode()
    m.pop("manifest.sig", None)
    return write(dst, m)


def test_generate_key_pair_private_0600_and_phone_fingerprint(config_dir):
    info = keys.generate_key("lusaka")
    priv, pub = Path(info["private_key"]), Path(info["public_key"])
    assert priv.is_relative_to(config_dir) and priv.is_file() and pub.is_file()
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", info["fingerprint"])
    assert "PRIVATE" not in pub.read_text() and "lusaka" in pub.read_text()
    with pytest.raises(BundleError, match="already"):
        keys.generate_key("lusaka")  # never overwrite a key silently
    # a private key others can read is refused, as ssh does
    priv.chmod(0o644)
    with pytest.raises(BundleError, match="0600"):
        keys.load_private_key("lusaka")


def test_signed_round_trip_trusted_unknown_unsigned(groups, tmp_path):  # noqa: F811
    lusaka, maputo, good, tmp = groups
    assert inspect_bundle(good)["signature"]["text"] == "unsigned"
    out, info = signed(groups, tmp)
    assert "manifest.sig" in members_of(out)
    assert inspect_bundle(out, maputo)["signature"]["text"] == "signed by an unknown key"
    keys.trust_key(maputo, info["public_key"])
    sig = inspect_bundle(out, maputo)["signature"]
    assert sig["text"] == "signed by lusaka (trusted)" and sig["fingerprint"] == info["fingerprint"]
    # once lusaka's key is trusted, nothing unsigned or renamed can pass for lusaka
    refused(maputo, good, "lusaka", "unsigned")
    with pytest.raises(BundleError, match="trusted key"):
        import_bundle(
            maputo, rename_group(good, tmp / "other.reviewbundle", "harare"), group="lusaka"
        )
    s = import_bundle(maputo, out)
    assert s["signature"]["status"] == "trusted" and s["records_added"] == 25
    assert [k["group"] for k in keys.trusted_keys(maputo)] == ["lusaka"]


def test_signature_by_another_key_is_refused(groups, tmp_path):  # noqa: F811
    _, maputo, _, tmp = groups
    out, info = signed(groups, tmp)
    keys.trust_key(maputo, info["public_key"])
    # a stranger signs the same manifest with their own key and says it is lusaka's
    stranger = keys.new_private_key()
    m = members_of(out)
    m["manifest.sig"] = keys.signature_doc(stranger, m["manifest.json"], group="lusaka")
    bad = write(tmp / "other-key.reviewbundle", m)
    refused(maputo, bad, "lusaka", "trusted key")
    # ... or keeps lusaka's public key in the signature: the signature no longer verifies
    doc = json.loads(m["manifest.sig"])
    doc["public_key"] = json.loads(members_of(out)["manifest.sig"])["public_key"]
    m["manifest.sig"] = json.dumps(doc).encode()
    refused(maputo, write(tmp / "forged.reviewbundle", m), "bad signature")


def test_re_signed_tampered_manifest_is_refused(groups, tmp_path):  # noqa: F811
    _, maputo, _, tmp = groups
    out, info = signed(groups, tmp)
    keys.trust_key(maputo, info["public_key"])
    m = members_of(out)
    m["records.jsonl"] = m["records.jsonl"].replace(b"Smart", b"Dumb", 1)
    manifest = json.loads(m["manifest.json"])
    manifest["members"]["records.jsonl"] = hashlib.sha256(m["records.jsonl"]).hexdigest()
    manifest["sizes"]["records.jsonl"] = len(m["records.jsonl"])
    m["manifest.json"] = json.dumps(manifest).encode()
    # the old signature no longer matches the edited manifest
    refused(maputo, write(tmp / "tampered.reviewbundle", m), "bad signature")
    # re-signed by the tamperer's key: not lusaka's
    m["manifest.sig"] = keys.signature_doc(keys.new_private_key(), m["manifest.json"], "lusaka")
    refused(maputo, write(tmp / "resigned.reviewbundle", m), "trusted key")


def test_require_signed_refuses_unsigned_and_unknown(groups, tmp_path):  # noqa: F811
    _, maputo, good, tmp = groups
    from conftest import PROTOCOLS

    text = (PROTOCOLS / "sadc-smart-cities.toml").read_text()
    maputo.set_protocol(protocol.loads(text + "\n[sharing]\nrequire_signed = true\n"))
    refused(maputo, good, "unsigned", "require_signed")
    out, info = signed(groups, tmp)
    refused(maputo, out, "unknown key", "require_signed")
    keys.trust_key(maputo, info["public_key"])
    assert import_bundle(maputo, out)["records_added"] == 25
    with pytest.raises(Exception, match="require_signed"):
        protocol.loads(text + "\n[sharing]\nrequire_signed = 'yes'\n")


def test_cli_keys_generate_trust_list_and_signed_import(groups, tmp_path, config_dir):  # noqa: F811
    lusaka, maputo, _, tmp = groups
    out = run("keys", "generate", "--group", "lusaka")
    fp = re.search(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", out).group(0)  # type: ignore[union-attr]
    pub = config_dir / "keys" / "lusaka.pub"
    assert str(pub) in out
    bundle = tmp / "cli.reviewbundle"
    assert "signed" in run("bundle", "export", "-o", str(bundle), "--group", "lusaka", "--decisions", "--db", str(lusaka.path))  # fmt: skip
    assert "signed by an unknown key" in run("bundle", "inspect", str(bundle))
    assert fp in run("keys", "trust", str(pub), "--db", str(maputo.path))
    assert "lusaka" in run("keys", "list", "--db", str(maputo.path))
    assert "signed by lusaka (trusted)" in run("bundle", "inspect", str(bundle), "--db", str(maputo.path))  # fmt: skip
    out = run("bundle", "import", str(bundle), "--db", str(maputo.path))
    assert "signed by lusaka (trusted)" in out and "25 records added" in out


def test_config_dir_honours_xdg_and_forget(groups, tmp_path, monkeypatch):  # noqa: F811
    _, maputo, _, _ = groups
    monkeypatch.delenv("REVIEW_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    info = keys.generate_key("lusaka")
    assert Path(info["private_key"]) == tmp_path / "xdg" / "review" / "keys" / "lusaka.key"
    assert keys.trust_key(maputo, info["public_key"])["already_trusted"] is False
    assert keys.trust_key(maputo, info["public_key"])["already_trusted"] is True
    with pytest.raises(BundleError, match="already trusted for group 'lusaka'"):
        keys.trust_key(maputo, info["public_key"], group="maputo")
    assert "no longer trusted" in run(
        "keys", "forget", info["fingerprint"], "--db", str(maputo.path)
    )
    assert "No trusted keys" in run("keys", "list", "--db", str(maputo.path))
