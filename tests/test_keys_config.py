"""Key rebinding from the user's config file ($REVIEW_CONFIG / ~/.config/review/config.toml),
merged over the protocol's [keys]: the user's file wins for that user."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_screen import PROTOCOL, build_workspace

from review.errors import ScreenError
from review.screen.config import config_path, user_keys
from review.screen.tui.app import ScreenApp
from review.screen.tui.keys import keymap
from review.store.decisions import current_decisions

SIZE = (150, 50)
TA = "title-abstract"


@pytest.fixture(autouse=True)
def no_home_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the real ~/.config of whoever runs the tests."""
    monkeypatch.delenv("REVIEW_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_config_path_and_missing_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert config_path() == tmp_path / "xdg" / "review" / "config.toml"
    assert user_keys() == ({}, None)  # no file at the default place: no config
    assert keymap({"include": "y"}, "p.toml") == {"include": "y"}
    write(tmp_path / "xdg" / "review" / "config.toml", '[keys]\ninclude = "o"\n')
    assert user_keys()[0] == {"include": "o"}
    monkeypatch.setenv("REVIEW_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ScreenError, match=r"nope\.toml: config file set by \$REVIEW_CONFIG"):
        user_keys()


@pytest.mark.parametrize("xdg", [None, ""])
def test_keys_and_config_file_share_one_config_directory(tmp_path, monkeypatch, xdg):
    """Without $XDG_CONFIG_HOME (unset or empty) both the config file and the signing keys live
    in ~/.config/review; with it, both live in $XDG_CONFIG_HOME/review (one lookup)."""
    from review.share import keys

    monkeypatch.delenv("REVIEW_CONFIG_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME")
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    home = tmp_path / "home" / ".config" / "review"
    assert config_path() == home / "config.toml" and keys.config_dir() == home
    monkeypatch.setenv("XDG_CONFIG_HOME", "~/xdg")  # expanded, like $REVIEW_CONFIG
    assert keys.config_dir() == config_path().parent == tmp_path / "home" / "xdg" / "review"
    monkeypatch.setenv("REVIEW_CONFIG_DIR", str(tmp_path / "keys-here"))  # keys only
    assert keys.config_dir() == tmp_path / "keys-here"
    assert config_path() == tmp_path / "home" / "xdg" / "review" / "config.toml"


def test_user_config_wins_over_protocol(tmp_path: Path):
    cfg = write(tmp_path / "me.toml", '[keys]\ninclude = "o"\nundo = "ctrl+z"\n\n[other]\nx = 1\n')
    merged = keymap({"include": "y", "maybe": "z"}, "proto.toml", config=cfg)
    assert merged == {"include": "o", "maybe": "z", "undo": "ctrl+z"}
    # swapping two defaults is not a clash
    swap = write(tmp_path / "swap.toml", '[keys]\ninclude = "e"\nexclude = "i"\n')
    assert keymap({}, None, config=swap) == {"include": "e", "exclude": "i"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[keys]\ninclde = "y"\n', r"me\.toml:keys\.inclde: \[keys\] names unknown actions inclde"),
        ('[keys\ninclude = "y"\n', r"me\.toml:line 1: config file is not valid TOML"),
        ("[keys]\ninclude = 3\n", r"me\.toml:keys\.include: keys\.include = 3 is not a key"),
        ('[keys]\ninclude = ""\n', r"me\.toml:keys\.include: .* is not a key"),
        ('keys = "y"\n', r"me\.toml:keys: \[keys\] must be a table"),
        ('[keys]\nhelp = "slash"\n', r"me\.toml:keys\.help: key 'slash' is bound to both search"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, message: str):
    cfg = write(tmp_path / "me.toml", text)
    with pytest.raises(ScreenError, match=message):
        keymap({}, None, config=cfg)


def test_protocol_errors_still_name_the_protocol(tmp_path: Path):
    cfg = write(tmp_path / "me.toml", '[keys]\nmaybe = "y"\n')
    with pytest.raises(ScreenError, match=r"proto\.toml:keys\.inclde: .*unknown actions inclde"):
        keymap({"inclde": "x"}, "proto.toml", config=cfg)
    # the protocol's include = "y" and the user's maybe = "y" clash: the user's file is named
    with pytest.raises(ScreenError, match=r"me\.toml:keys\.maybe: key 'y' is bound to both"):
        keymap({"include": "y"}, "proto.toml", config=cfg)


def decisions(app: ScreenApp) -> dict[int, tuple[str, str | None]]:
    return {
        d["work_id"]: (d["decision"], d["reason"])
        for d in current_decisions(app.ws, stage=TA, reviewer="ann")
    }


@pytest.fixture
def db(tmp_path: Path) -> Path:
    proto = write(tmp_path / "p.toml", PROTOCOL.read_text() + '\n[keys]\ninclude = "y"\n')
    db = tmp_path / "k.db"
    build_workspace(db, proto=proto).close()
    return db


async def test_rebound_key_screens_into_the_workspace(db: Path, tmp_path: Path, monkeypatch):
    cfg = write(tmp_path / "cfg" / "config.toml", '[keys]\ninclude = "o"\nmaybe = "ctrl+b"\n')
    monkeypatch.setenv("REVIEW_CONFIG", str(cfg))
    app = ScreenApp(db, reviewer="ann", order="oldest")
    # until app.py calls keymap() itself (see keys.py), apply the merged map here
    app.set_keymap(keymap(app.proto.keys, app.proto.path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i", "y")  # the default and the protocol's key: both overridden
        await pilot.pause()
        assert decisions(app) == {}
        await pilot.press("o")
        await pilot.press("ctrl+b")
        await pilot.press("e", "1")  # actions the config leaves alone keep their keys
        await pilot.pause()
        assert decisions(app) == {1: ("include", None), 2: ("maybe", None), 3: ("exclude", "E1")}
    # committed to the workspace file, not just held by the app
    ws2 = build_reader(db)
    assert {d["work_id"]: d["decision"] for d in current_decisions(ws2, stage=TA)} == {
        1: "include",
        2: "maybe",
        3: "exclude",
    }
    ws2.close()


def build_reader(db: Path):
    from review.store.workspace import Workspace

    return Workspace.open(db)


async def test_screen_app_reads_the_user_config_itself(db: Path, tmp_path: Path, monkeypatch):
    cfg = write(tmp_path / "cfg" / "config.toml", '[keys]\ninclude = "o"\n')
    monkeypatch.setenv("REVIEW_CONFIG", str(cfg))
    app = ScreenApp(db, reviewer="ann", order="oldest")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert decisions(app) == {1: ("include", None)}
