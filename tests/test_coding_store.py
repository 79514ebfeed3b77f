"""The coding store's helpers and aggregate reads, checked against the plain definitions on real
workspaces (several reviewers, undos, bundle origins)."""

from __future__ import annotations

import pytest

from review.coding import store


@pytest.mark.parametrize("group", ["lusaka", "Maputo team", "a.b-c", "x_1"])
def test_bundle_origin_round_trips(group: str) -> None:
    """One helper pair builds and parses ``bundle:<group>[:resolution]`` (share.coding builds it,
    the store's settling rule parses it)."""
    vote = store.bundle_origin(group)
    settled = store.bundle_origin(group, resolution=True)
    assert vote == f"bundle:{group}" and settled == f"bundle:{group}:resolution"
    assert store.resolution_group(settled) == group
    assert store.resolution_group(vote) is None
    for other in ("resolution", "tui", "cli", "undo", "bundle:", "resolution:bundle"):
        assert store.resolution_group(other) is None, other


def test_is_resolution_uses_the_parser() -> None:
    def code(origin: str) -> store.Code:
        return store.Code(1, 1, "f", "ana", ["x"], "confirmed", origin, "2026-01-01")

    assert store.is_resolution(code("resolution"))
    assert store.is_resolution(code(store.bundle_origin("lusaka", resolution=True)))
    assert not store.is_resolution(code(store.bundle_origin("lusaka")))
    assert not store.is_resolution(code("tui"))
