"""The user's personal config file: ``$REVIEW_CONFIG`` or ``~/.config/review/config.toml``.

Only ``[keys]`` (action = "key") is read today; other tables are left for later features. A
missing default file is simply no config; a missing ``$REVIEW_CONFIG`` file, malformed TOML or
a ``[keys]`` entry that is not a key string is a :class:`ScreenError` naming the file and key.
Pure stdlib (no Textual import), so commands can check the file before a screen starts.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from ..errors import ScreenError
from ..paths import user_config_dir  # re-exported: its old home

__all__ = ["ENV", "config_path", "load_config", "user_config_dir", "user_keys"]

ENV = "REVIEW_CONFIG"
_KEY_RE = re.compile(r"^[^\s,]+(?:\s*,\s*[^\s,]+)*$")  # 'y', 'ctrl+y', 'left,h', '?'


def config_path() -> Path:
    """``$REVIEW_CONFIG``, else ``config.toml`` in ``user_config_dir()``."""
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    return user_config_dir() / "config.toml"


def load_config(path: str | Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """(the parsed file, its path), or ({}, None) when the default file does not exist."""
    explicit = path is not None or bool(os.environ.get(ENV))
    p = Path(path).expanduser() if path is not None else config_path()
    if not p.is_file():
        if explicit:
            why = f"set by ${ENV}" if path is None else "given"
            raise ScreenError(f"config file {why} does not exist", path=str(p))
        return {}, None
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ScreenError("config file is not UTF-8 text", path=str(p)) from e
    except OSError as e:
        raise ScreenError(f"cannot read config file ({e.strerror or e})", path=str(p)) from e
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\s*\(at line (\d+), column \d+\)$", str(e))  # 3.11 has no e.lineno
        line = getattr(e, "lineno", None) or (int(m.group(1)) if m else None)
        msg = getattr(e, "msg", None) or (str(e)[: m.start()] if m else str(e))
        raise ScreenError(
            f"config file is not valid TOML ({msg})",
            path=str(p),
            where=f"line {line}" if line else None,
        ) from e
    return data, p


def user_keys(path: str | Path | None = None) -> tuple[dict[str, str], Path | None]:
    """The ``[keys]`` table of the user's config as {action: key}, and the file it came from."""
    data, p = load_config(path)
    if p is None:
        return {}, None
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        raise ScreenError('[keys] must be a table of action = "key"', path=str(p), where="keys")
    out: dict[str, str] = {}
    for action, key in keys.items():
        if not isinstance(key, str) or not _KEY_RE.match(key.strip()):
            raise ScreenError(
                f'keys.{action} = {key!r} is not a key; write e.g. "y", "ctrl+y" or "left,h"',
                path=str(p),
                where=f"keys.{action}",
            )
        out[action] = key.strip()
    return out, p
