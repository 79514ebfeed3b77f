"""review.paths: the user's review directory, one stdlib module both the screen config and the
group signing keys read (share never imports the screening package for it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_user_config_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from review.paths import user_config_dir

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert user_config_dir() == tmp_path / "review"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_config_dir() == tmp_path / "home" / ".config" / "review"


def test_the_old_name_still_imports() -> None:
    from review import paths
    from review.screen import config

    assert config.user_config_dir is paths.user_config_dir


def test_share_keys_does_not_import_the_screen_package() -> None:
    code = (
        "import sys, review.share.keys\n"
        "print(sorted(m for m in sys.modules if m.startswith('review.screen')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
