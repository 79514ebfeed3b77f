"""Validating a bundle's rows exactly as local commands validate their input.

Each ``clean_*`` function takes one JSONL row and returns the values to store, or raises a
``BundleError`` naming the member, the line and the field. Rules are the local ones: arms and
search kinds from the store, stages and exclusion reason codes from the RECEIVING workspace's
protocol, decisions as ``review decide`` takes them (a reason with, and only with, an exclusion).

Identity: a decision, note or tag from a bundle belongs to the bundle's group. ``ana`` and
``ana@lusaka`` in a bundle from lusaka are stored as ``ana@lusaka``; ``ana@maputo`` in that bundle
is a decision lusaka relays for another group, which lusaka cannot speak for: it is skipped
(counted as ``relayed_skipped``). No name from a bundle can become a local reviewer.

Dates: every date must be ISO 8601; one later than the import is clamped to the import time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import BundleError
from ..models import ARMS, OUTCOMES
from ..store.records import SEARCH_KINDS
from .index import Index

SEARCH_STATUS = ("running", "complete", "failed", "interrupted")
DOCUMENT_KINDS = ("pdf", "html", "md", "txt")
_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f@]{1,100}$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_RECORD_FIXED = {"id", "work_id", "search_id", "origin", "source", "arm", "year", "created_at"}


@dataclass
class Context:
    """What a row is checked against; filled while the members are read in order."""

    path: str
    group: str
    ts: str  # the import time
    stages: tuple[str, ...]
    reasons: tuple[str, ...] | None  # None: the workspace has no protocol
    index: Index  # ids seen, kept on disk
    listed: set[str] = field(default_factory=set)  # bundle members
    recording: bool = True  # the validation pass records ids; the write pass only checks them
    clamped: int = 0
    codebook: dict[str, Any] = field(default_factory=dict)  # name -> CodingField (receiver's)

    def fail(self, member: str, line: int, fld: str, message: str) -> BundleError:
        return BundleError(f"{member} line {line}: field {fld!r}: {message}", path=self.path)


class _Row:
    def __init__(self, ctx: Context, member: str, line: int, row: dict[str, Any]):
        self.ctx, self.member, self.line, self.row = ctx, member, line, row

    def fail(self, fld: str, message: str) -> BundleError:
        return self.ctx.fail(self.member, self.line, fld, message)

    def text(self, fld: str, required: bool = False) -> str | None:
        v = self.row.get(fld)
        if v is None or (v == "" and not required):
            if required:
                raise self.fail(fld, "is missing")
            return None
        if not isinstance(v, str):
            raise self.fail(fld, f"must be text, not {type(v).__name__} {_short(v)}")
        if required and not v.strip():
            raise self.fail(fld, "is empty")
        return v

    def int_(self, fld: str, required: bool = False) -> int | None:
        v = self.row.get(fld)
        if v is None:
            if required:
                raise self.fail(fld, "is missing")
            return None
        if not isinstance(v, int) or isinstance(v, bool):
            raise self.fail(fld, f"must be an integer, not {_short(v)}")
        return v

    def number(self, fld: str, lo: float | None = None, hi: float | None = None) -> float | None:
        v = self.row.get(fld)
        if v is None:
            return None
        if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
            raise self.fail(fld, f"must be a number, not {_short(v)}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise self.fail(fld, f"{_short(v)} is outside [{lo}, {hi}]")
        return float(v)

    def one_of(self, fld: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        v = self.row.get(fld, default)
        if v is None and default is not None:
            v = default
        if v not in allowed:
            raise self.fail(fld, f"{_short(v)} is not one of {', '.join(allowed)}")
        return str(v)

    def date(self, fld: str, required: bool = True) -> str | None:
        v = self.row.get(fld)
        if v is None:
            if required:
                raise self.fail(fld, "is missing")
            return None
        if not isinstance(v, str):
            raise self.fail(fld, f"must be an ISO 8601 date, not {_short(v)}")
        try:
            d = datetime.fromisoformat(v)
        except ValueError:
            raise self.fail(fld, f"{_short(v)} is not an ISO 8601 date")
        if d.tzinfo is None:
            d = d.replace(tzinfo=UTC)
        if d > datetime.fromisoformat(self.ctx.ts):
            self.ctx.clamped += 1
            return self.ctx.ts  # a date in the future cannot outrank what happened before it
        return v

    def stage(self, fld: str = "stage", required: bool = True) -> str | None:
        v = self.row.get(fld)
        if v is None and not required:
            return None
        if v not in self.ctx.stages:
            raise self.fail(
                fld,
                f"unknown stage {_short(v)}; the protocol's stages are {', '.join(self.ctx.stages)}",
            )
        return str(v)

    def work_ref(self) -> int:
        ref = self.int_("work_ref", required=True)
        assert ref is not None
        if not self.ctx.index.has_ref(ref):
            raise self.fail("work_ref", f"work {ref} has no record in records.jsonl")
        return ref

    def reviewer(self) -> str | None:
        """``name@group`` of the bundle's group, or None when the row speaks for another group."""
        v = self.text("reviewer", required=True)
        assert v is not None
        name, at, grp = v.strip().rpartition("@")
        if not at:
            name = grp
        elif grp != self.ctx.group or "@" in name:
            return None
        if not _NAME_RE.match(name) or not name.strip():
            raise self.fail("reviewer", f"{_short(v)} is not a reviewer name")
        return f"{name.strip()}@{self.ctx.group}"


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def clean_search(ctx: Context, line: int, row: dict[str, Any]) -> dict[str, Any]:
    r = _Row(ctx, "searches.jsonl", line, row)
    sid = r.int_("id", required=True)
    assert sid is not None
    if ctx.recording and not ctx.index.add_search(sid):
        raise r.fail("id", f"search {sid} appears twice")
    out = {
        "id": sid,
        "source": r.text("source", required=True),
        "arm": r.one_of("arm", ARMS),
        "kind": r.one_of("kind", SEARCH_KINDS),
        "status": r.one_of("status", SEARCH_STATUS, default="complete"),
        "started_at": r.date("started_at"),
        "finished_at": r.date("finished_at", required=False),
        "records_found": r.int_("records_found"),
    }
    for f in ("query", "file_name", "tool", "tool_version", "api_version", "cursor", "params", "group_name", "notes"):  # fmt: skip
        out[f] = r.text(f)
    return out


def clean_record(ctx: Context, line: int, row: dict[str, Any], cols: set[str]) -> dict[str, Any]:
    """A record row: ids, origin, source and arm checked; every other column must be a scalar."""
    r = _Row(ctx, "records.jsonl", line, row)
    rid = r.int_("id", required=True)
    sid = r.int_("search_id", required=True)
    if sid is None or not ctx.index.has_search(sid):
        raise r.fail("search_id", f"search {sid} is not in searches.jsonl")
    ref = r.int_("work_ref", required=True)
    if ctx.recording:
        ctx.index.add_ref(ref)  # type: ignore[arg-type]
    origin = r.text("origin", required=True)
    assert origin is not None
    if "/" not in origin or len(origin) > 200 or origin.startswith("/"):
        raise r.fail("origin", f"{_short(origin)} is not <group>/<record id>")
    out: dict[str, Any] = {"id": rid, "search_id": sid, "work_ref": ref, "origin": origin}
    out["source"] = r.text("source", required=True)
    out["arm"] = r.one_of("arm", ARMS)
    out["year"] = r.int_("year")
    for f, v in row.items():
        if f in cols and f not in _RECORD_FIXED and v is not None:
            if type(v) not in (str, int, float):
                raise r.fail(f, f"must be text or a number, not {type(v).__name__}")
            out[f] = v
    out["created_at"] = r.date("created_at", required=False) or ctx.ts
    return out


def clean_decision(ctx: Context, line: int, row: dict[str, Any]) -> dict[str, Any] | None:
    """As ``review decide`` takes it (plus 'retract', the undo of a first decision)."""
    r = _Row(ctx, "decisions.jsonl", line, row)
    out = {"work_ref": r.work_ref(), "stage": r.stage()}
    decision = r.one_of("decision", (*OUTCOMES, "retract"))
    reason = r.text("reason")
    if decision == "exclude":
        if not reason:
            raise r.fail("reason", "an exclusion needs a reason code from the protocol")
        if ctx.reasons is not None and reason not in ctx.reasons:
            raise r.fail(
                "reason",
                f"unknown exclusion reason {_short(reason)}; the protocol's are {', '.join(ctx.reasons)}",
            )
    elif reason:
        raise r.fail("reason", f"a reason is only given with an exclusion, not with {decision!r}")
    out.update(
        decision=decision, reason=reason, note=r.text("note"), created_at=r.date("created_at")
    )
    reviewer = r.reviewer()
    return None if reviewer is None else {**out, "reviewer": reviewer}


def clean_note(ctx: Context, line: int, row: dict[str, Any]) -> dict[str, Any] | None:
    r = _Row(ctx, "notes.jsonl", line, row)
    out = {
        "work_ref": r.work_ref(),
        "stage": r.stage(required=False),
        "text": (r.text("text", required=True) or "").strip(),
        "created_at": r.date("created_at"),
    }
    reviewer = r.reviewer()
    return None if reviewer is None else {**out, "reviewer": reviewer}


def clean_tag(ctx: Context, line: int, row: dict[str, Any]) -> dict[str, Any] | None:
    r = _Row(ctx, "tags.jsonl", line, row)
    out = {
        "work_ref": r.work_ref(),
        "tag": (r.text("tag", required=True) or "").strip(),
        "action": r.one_of("action", ("add", "remove"), default="add"),
        "created_at": r.date("created_at"),
    }
    reviewer = r.reviewer()
    return None if reviewer is None else {**out, "reviewer": reviewer}


def clean_document(ctx: Context, line: int, row: dict[str, Any]) -> dict[str, Any]:
    r = _Row(ctx, "documents.jsonl", line, row)
    rid = r.int_("record_id", required=True)
    if ctx.recording:
        ctx.index.add_doc_record(rid)  # type: ignore[arg-type]
    sha = r.text("sha256")
    if sha is not None and not _SHA_RE.match(sha):
        raise r.fail("sha256", f"{_short(sha)} is not a SHA-256")
    bfile = r.text("bundle_file")
    if bfile is not None and (bfile not in ctx.listed or not bfile.startswith(f"files/{sha}.")):
        raise r.fail("bundle_file", f"{_short(bfile)} is not this document's file in the bundle")
    return {
        "record_id": rid, "kind": r.one_of("kind", DOCUMENT_KINDS, default="pdf"), "sha256": sha,
        "bundle_file": bfile, "pages": r.int_("pages"), "original_name": r.text("original_name"),
        "language": r.text("language"), "meta": r.text("meta"), "text": r.text("text"),
    }  # fmt: skip
