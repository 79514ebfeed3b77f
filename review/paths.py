"""Where review keeps a user's own files (standard library only, cheap to import): the config
file (screen/config.py) and the group signing keys (share/keys.py) live in ``user_config_dir()``."""

from __future__ import annotations

import os
from pathlib import Path


def user_config_dir() -> Path:
    """The user's review directory: ``$XDG_CONFIG_HOME/review``, else ``~/.config/review``
    (the config file here, the group signing keys in share/keys.py)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "review"
