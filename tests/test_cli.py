"""The CLI shell: help everywhere, light imports, status output, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import click
from click.testing import CliRunner

from review.cli import cli
from review.models import Record
from review.store.records import add_records, finish_search, start_search

# commands that read files only, never a workspace
NO_DB = {("protocol", "check"), ("bundle", "inspect"), ("simulate",)}
HEAVY = (
    "torch",
    "textual",
    "fitz",
    "sentence_transformers",
    "sklearn",
    "hdbscan",
    "umap",
    "matplotlib",
    "numpy",  # sqlite_utils pulls it in: the workspace layer loads only when a command runs
    "sqlite_utils",
    "cryptography",
)


def _walk(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, prefix + (name,))


def test_every_command_has_help():
    runner = CliRunner()
    missing = []
    for path, cmd in _walk(cli):
        if not (cmd.help or cmd.short_help):
            missing.append(" ".join(path))
        r = runner.invoke(cli, [*path, "--help"])
        assert r.exit_code == 0, (path, r.output)
        if "--db" not in r.output and not isinstance(cmd, click.Group) and path not in NO_DB:
            missing.append(" ".join(path) + " (no --db)")
    assert not missing, missing


def test_help_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from review.cli import cli\n"
        "r = CliRunner().invoke(cli, ['--help'])\n"
        "assert r.exit_code == 0\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_status_json(db_path, ws):
    sid = start_search(ws, source="OpenAlex", arm="databases", kind="manual")
    add_records(ws, sid, [Record(title="Smart Lusaka"), Record(title="Smart Maputo")])
    finish_search(ws, sid, records_found=2, records_stored=2)
    sid = start_search(ws, source="UNDP Accelerator Labs", arm="other", kind="web")
    add_records(ws, sid, [Record(title="A blog from Windhoek")])
    finish_search(ws, sid, records_found=1, records_stored=1)
    r = CliRunner().invoke(cli, ["status", "--json", "--db", db_path])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["records"] == 3 and s["works"] == 3
    assert s["sources"] == {"OpenAlex": 2, "UNDP Accelerator Labs": 1}
    assert s["arms"]["other"] == 1
    assert s["prisma"]["database_results"] == 2
    assert isinstance(s["decisions"], dict)
    text = CliRunner().invoke(cli, ["status", "--db", db_path]).output
    assert "OpenAlex" in text and "works after dedup: 3" in text


def test_status_on_missing_workspace_fails_clearly(tmp_path):
    r = CliRunner().invoke(cli, ["status", "--db", str(tmp_path / "none.db")])
    assert r.exit_code == 1
    assert "none.db" in r.output and "review init" in r.output


def test_init_with_broken_protocol_creates_nothing(tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text("[review]\ntitle = 1\n")
    r = CliRunner().invoke(cli, ["init", "--protocol", str(bad), "--db", str(tmp_path / "w.db")])
    assert r.exit_code == 2 and "review.title" in r.output
    assert not (tmp_path / "w.db").exists()


def test_review_db_env(tmp_path, protocol_path, monkeypatch):
    monkeypatch.setenv("REVIEW_DB", str(tmp_path / "env.db"))
    r = CliRunner().invoke(cli, ["init", "--protocol", str(protocol_path)])
    assert r.exit_code == 0 and (tmp_path / "env.db").exists()


def test_every_command_is_in_the_readme():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in cli.commands if f"review {name}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"
