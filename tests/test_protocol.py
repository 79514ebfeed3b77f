"""Protocol files: the shipped ones validate; broken ones get file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PROTOCOLS

from review import protocol
from review.cli import cli
from review.errors import ProtocolError

GOOD = """
[review]
title = "T"
question = "Q?"

[[criteria.inclusion]]
code = "I1"
text = "in"

[[criteria.exclusion]]
code = "E1"
text = "out"
"""


@pytest.mark.parametrize("path", sorted(PROTOCOLS.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_protocols_validate(path: Path):
    p = protocol.load(path)
    assert p.title and p.question
    assert p.inclusion and p.exclusion
    assert p.stages == ("title-abstract", "full-text")


def test_sadc_protocol_content():
    p = protocol.load(PROTOCOLS / "sadc-smart-cities.toml")
    assert len(p.regions["SADC"]) == 16
    assert {"ZA", "CD", "SZ", "TZ", "KM"} <= set(p.regions["SADC"])
    assert any("sociopolitical" in s for s in p.seed_themes)
    assert p.source("OpenAlex").arm == "databases"
    assert p.source("UNDP Accelerator Labs").arm == "other"
    assert p.reason("E2").text.startswith("No SADC")
    assert p.region_of("za") == ["SADC", "SACU"]


def test_minimal_protocol_defaults():
    p = protocol.loads(GOOD)
    assert p.target_recall == 0.95 and p.languages == ("en",) and p.sources == ()


@pytest.mark.parametrize(
    "broken, line, message",
    [
        (GOOD.replace('question = "Q?"', ""), "2", "review.question: is required"),
        (GOOD.replace('code = "E1"', 'code = "E 1,"'), "11", "criteria.exclusion[0].code"),
        (GOOD + '\n[[sources]]\nname = "X"\nkind = "carrier-pigeon"\n', "16", "unknown kind"),
        (GOOD + '\n[[sources]]\nname = "X"\nkind = "openalex"\n', "14", "needs a search string"),
        (GOOD + "\n[screening]\ntarget_recall = 1.5\n", "15", "between 0 and 1"),
        (GOOD + '\n[regions]\nSADC = ["ZA", "South Africa"]\n', "15", "not an ISO"),
        (GOOD + "\n[bogus]\nx = 1\n", "14", "unknown section"),
        (GOOD.replace('code = "I1"', 'code = "E1"'), "11", "duplicate criterion code"),
        (GOOD.replace('title = "T"', 'title = "T'), "3", "invalid TOML"),
    ],
)
def test_broken_protocols_name_line_and_key(tmp_path, broken, line, message):
    f = tmp_path / "broken.toml"
    f.write_text(broken)
    with pytest.raises(ProtocolError) as e:
        protocol.load(f)
    text = str(e.value)
    assert text.startswith(f"{f}:{line}"), text
    assert message in text


def test_cli_check_exit_code_2(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text(GOOD.replace('text = "out"', ""))
    r = CliRunner().invoke(cli, ["protocol", "check", str(f)])
    assert r.exit_code == 2
    assert "criteria.exclusion[0].text: is required" in r.output
    ok = CliRunner().invoke(cli, ["protocol", "check", str(PROTOCOLS / "sadc-smart-cities.toml")])
    assert ok.exit_code == 0 and "OK" in ok.output
