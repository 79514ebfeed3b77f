"""Review protocols (``protocols/*.toml``): load, validate, and report errors by file and line.

A protocol is plain TOML. Validation is a pure function from the parsed dict to a ``Protocol``;
errors name the file, the line (found by scanning the text for the offending key) and the key path.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .coding.codebook import CodingField
from .coding.codebook import parse as parse_codebook
from .errors import ProtocolError
from .models import ARMS, Criterion, Source

SOURCE_KINDS = (
    "openalex",
    "database",
    "register",
    "file",
    "website",
    "organisation",
    "citations",
)
DEFAULT_STAGES = ("title-abstract", "full-text")
_CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,15}$")
_KNOWN_TOP = {
    "review",
    "criteria",
    "sources",
    "screening",
    "keywords",
    "regions",
    "themes",
    "keys",
    "sharing",
    "coding",
}

STOPPING_RULES = ("cmh", "ranked")  # [screening] stopping: the published rule, or BUSCAR


@dataclass(frozen=True)
class Protocol:
    title: str
    question: str
    inclusion: tuple[Criterion, ...]
    exclusion: tuple[Criterion, ...]
    sources: tuple[Source, ...]
    stages: tuple[str, ...] = DEFAULT_STAGES
    languages: tuple[str, ...] = ("en",)
    years: tuple[int, int] | None = None
    include_keywords: tuple[str, ...] = ()
    exclude_keywords: tuple[str, ...] = ()
    regions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    seed_themes: tuple[str, ...] = ()
    blind: bool = False
    maybe: str = "advance"  # [screening] maybe: "advance" (a vote to go on) | "undecided"
    target_recall: float = 0.95
    confidence: float = 0.95
    # [screening] stopping: "cmh" (Callaghan & Müller-Hansen as published: ranked screening, then
    # a random sample) | "ranked" (the same test on the ranked sequence, BUSCAR)
    stopping: str = "cmh"
    keys: dict[str, str] = field(default_factory=dict)
    codebook: tuple[CodingField, ...] = ()
    # [sharing] require_signed: import only bundles a trusted key signed
    require_signed: bool = False
    text: str = ""
    path: str | None = None

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return self.inclusion + self.exclusion

    def reason(self, code: str) -> Criterion | None:
        for c in self.exclusion:
            if c.code == code:
                return c
        return None

    def source(self, name: str) -> Source | None:
        for s in self.sources:
            if s.name == name:
                return s
        return None

    def coding_field(self, name: str) -> CodingField | None:
        return next((f for f in self.codebook if f.name == name), None)

    def region_of(self, country_code: str) -> list[str]:
        return [name for name, codes in self.regions.items() if country_code.upper() in codes]


def load(path: str | Path) -> Protocol:
    """Read and validate a protocol file. Raises ``ProtocolError`` naming file, line and key."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ProtocolError("protocol file not found", path=str(p))
    except UnicodeDecodeError as e:
        raise ProtocolError(f"not UTF-8 text ({e.reason} at byte {e.start})", path=str(p))
    return loads(text, path=str(p))


def loads(text: str, path: str = "<protocol>") -> Protocol:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = f"{m.group(1)}:{m.group(2)}" if m else None
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        raise ProtocolError(f"invalid TOML: {msg}", path=path, where=where)
    return validate(data, text=text, path=path)


def _line_of(text: str, keypath: str) -> str | None:
    """Best-effort line number of the last component of ``keypath`` in the TOML text."""
    parts = [p for p in re.split(r"[.\[\]]", keypath) if p and not p.isdigit()]
    if not parts:
        return None
    key = parts[-1]
    tables = parts[:-1]
    lines = text.splitlines()
    start = 0
    for t in tables:
        for i in range(start, len(lines)):
            if re.match(rf"^\s*\[\[?\s*([\w.-]+\.)?{re.escape(t)}\s*\]\]?", lines[i]):
                start = i
                break
    # count which [[array]] element is meant, if the keypath names one
    idx = re.findall(r"\[(\d+)\]", keypath)
    if idx and tables:
        n = int(idx[0])
        seen = -1
        for i, line in enumerate(lines):
            if re.match(rf"^\s*\[\[\s*([\w.-]+\.)?{re.escape(tables[-1])}\s*\]\]", line):
                seen += 1
                if seen == n:
                    start = i
                    break
    for i in range(start, len(lines)):
        if re.match(rf'^\s*"?{re.escape(key)}"?\s*=', lines[i]) or re.match(
            rf"^\s*\[\[?\s*([\w.-]+\.)?{re.escape(key)}\s*\]\]?", lines[i]
        ):
            return str(i + 1)
    return str(start + 1) if start else None


class _Checker:
    def __init__(self, text: str, path: str):
        self.text, self.path = text, path

    def fail(self, keypath: str, message: str) -> ProtocolError:
        line = _line_of(self.text, keypath)
        return ProtocolError(f"{keypath}: {message}", path=self.path, where=line)

    def str_(self, d: dict[str, Any], key: str, keypath: str, required: bool = True) -> str | None:
        v = d.get(key)
        if v is None:
            if required:
                raise self.fail(keypath, "is required")
            return None
        if not isinstance(v, str) or not v.strip():
            raise self.fail(keypath, f"must be a non-empty string, got {type(v).__name__} {v!r}")
        return v.strip()

    def list_of_str(self, v: Any, keypath: str) -> tuple[str, ...]:
        if v is None:
            return ()
        if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
            raise self.fail(keypath, "must be a list of non-empty strings")
        return tuple(x.strip() for x in v)


def validate(data: dict[str, Any], text: str = "", path: str = "<protocol>") -> Protocol:
    c = _Checker(text, path)
    for key in data:
        if key not in _KNOWN_TOP:
            raise c.fail(key, f"unknown section; expected one of {', '.join(sorted(_KNOWN_TOP))}")
    review = data.get("review")
    if not isinstance(review, dict):
        raise c.fail("review", "a [review] table with title and question is required")
    title = c.str_(review, "title", "review.title")
    question = c.str_(review, "question", "review.question")
    languages = c.list_of_str(review.get("languages", ["en"]), "review.languages")
    years = review.get("years")
    if years is not None:
        if (
            not isinstance(years, list)
            or len(years) != 2
            or not all(isinstance(y, int) for y in years)
            or years[0] > years[1]
        ):
            raise c.fail("review.years", "must be [first_year, last_year] with first <= last")
        years = (years[0], years[1])

    crit = data.get("criteria")
    if not isinstance(crit, dict):
        raise c.fail(
            "criteria", "a [criteria] section with inclusion and exclusion lists is required"
        )
    seen: set[str] = set()
    parsed: dict[str, list[Criterion]] = {"inclusion": [], "exclusion": []}
    for kind in ("inclusion", "exclusion"):
        items = crit.get(kind)
        if not isinstance(items, list) or not items:
            raise c.fail(f"criteria.{kind}", "needs at least one [[criteria." + kind + "]] entry")
        for i, item in enumerate(items):
            kp = f"criteria.{kind}[{i}]"
            if not isinstance(item, dict):
                raise c.fail(kp, "must be a table with code and text")
            code = c.str_(item, "code", f"{kp}.code")
            assert code is not None
            if not _CODE_RE.match(code):
                raise c.fail(
                    f"{kp}.code", f"code {code!r} must be a short identifier like E1 or LANG"
                )
            if code in seen:
                raise c.fail(f"{kp}.code", f"duplicate criterion code {code!r}")
            seen.add(code)
            txt = c.str_(item, "text", f"{kp}.text")
            assert txt is not None
            if kind == "exclusion" and ("," in code or ";" in code):
                raise c.fail(f"{kp}.code", "reason codes cannot contain ',' or ';'")
            parsed[kind].append(Criterion(code=code, text=txt, kind=kind))  # type: ignore[arg-type]

    sources_raw = data.get("sources", [])
    if not isinstance(sources_raw, list):
        raise c.fail("sources", "must be an array of [[sources]] tables")
    sources: list[Source] = []
    names: set[str] = set()
    for i, s in enumerate(sources_raw):
        kp = f"sources[{i}]"
        if not isinstance(s, dict):
            raise c.fail(kp, "must be a table")
        name = c.str_(s, "name", f"{kp}.name")
        assert name is not None
        if name in names:
            raise c.fail(f"{kp}.name", f"duplicate source name {name!r}")
        names.add(name)
        kind = c.str_(s, "kind", f"{kp}.kind") or ""
        if kind not in SOURCE_KINDS:
            raise c.fail(
                f"{kp}.kind", f"unknown kind {kind!r}; expected one of {', '.join(SOURCE_KINDS)}"
            )
        default_arm = {
            "openalex": "databases",
            "database": "databases",
            "file": "databases",
            "register": "registers",
        }.get(kind, "other")  # type: ignore[arg-type]
        arm = s.get("arm", default_arm)
        if arm not in ARMS:
            raise c.fail(f"{kp}.arm", f"unknown arm {arm!r}; expected one of {', '.join(ARMS)}")
        filt = s.get("filter", {})
        if not isinstance(filt, dict):
            raise c.fail(f"{kp}.filter", "must be a table of OpenAlex filters")
        search = c.str_(s, "search", f"{kp}.search", required=False)
        if kind == "openalex" and not search and not filt:
            raise c.fail(kp, "an openalex source needs a search string or a filter table")
        sources.append(
            Source(
                name=name,
                kind=kind,  # type: ignore[arg-type]
                arm=arm,
                search=search,
                filter=filt,
                url=c.str_(s, "url", f"{kp}.url", required=False),
                path=c.str_(s, "path", f"{kp}.path", required=False),
                note=c.str_(s, "note", f"{kp}.note", required=False),
            )
        )

    scr = data.get("screening", {})
    if not isinstance(scr, dict):
        raise c.fail("screening", "must be a table")
    stages = c.list_of_str(scr.get("stages", list(DEFAULT_STAGES)), "screening.stages")
    if not stages:
        raise c.fail("screening.stages", "needs at least one stage")
    if len(set(stages)) != len(stages):
        raise c.fail("screening.stages", "stage names must be unique")
    blind = scr.get("blind", False)
    if not isinstance(blind, bool):
        raise c.fail("screening.blind", "must be true or false")
    maybe = scr.get("maybe", "advance")
    if maybe not in ("advance", "undecided"):
        raise c.fail("screening.maybe", f'must be "advance" or "undecided", got {maybe!r}')
    tr = scr.get("target_recall", 0.95)
    conf = scr.get("confidence", 0.95)
    for key, v in (("target_recall", tr), ("confidence", conf)):
        if not isinstance(v, int | float) or not 0 < v < 1:
            raise c.fail(
                f"screening.{key}", f"must be a number between 0 and 1 (exclusive), got {v!r}"
            )

    stopping = scr.get("stopping", "cmh")
    if stopping not in STOPPING_RULES:
        raise c.fail("screening.stopping", f'must be "cmh" or "ranked", got {stopping!r}')

    kw = data.get("keywords", {})
    if not isinstance(kw, dict):
        raise c.fail("keywords", "must be a table with include and exclude lists")
    regions_raw = data.get("regions", {})
    if not isinstance(regions_raw, dict):
        raise c.fail("regions", "must be a table of region = [ISO country codes]")
    regions: dict[str, tuple[str, ...]] = {}
    for name, val in regions_raw.items():
        codes = val.get("countries") if isinstance(val, dict) else val
        codes_t = c.list_of_str(codes, f"regions.{name}")
        for code in codes_t:
            if not re.fullmatch(r"[A-Za-z]{2}", code):
                raise c.fail(
                    f"regions.{name}", f"{code!r} is not an ISO 3166-1 alpha-2 country code"
                )
        regions[name] = tuple(x.upper() for x in codes_t)
    themes = data.get("themes", {})
    if not isinstance(themes, dict):
        raise c.fail("themes", "must be a table with a seeds list")
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise c.fail("keys", 'must be a table of action = "key"')
    sharing = data.get("sharing", {})
    if not isinstance(sharing, dict):
        raise c.fail("sharing", "must be a table")
    require_signed = sharing.get("require_signed", False)
    if not isinstance(require_signed, bool):
        raise c.fail("sharing.require_signed", "must be true or false")

    return Protocol(
        title=title or "",
        question=question or "",
        inclusion=tuple(parsed["inclusion"]),
        exclusion=tuple(parsed["exclusion"]),
        sources=tuple(sources),
        stages=stages,
        languages=languages,
        years=years,
        include_keywords=c.list_of_str(kw.get("include"), "keywords.include"),
        exclude_keywords=c.list_of_str(kw.get("exclude"), "keywords.exclude"),
        regions=regions,
        seed_themes=c.list_of_str(themes.get("seeds"), "themes.seeds"),
        blind=blind,
        maybe=maybe,
        target_recall=float(tr),
        confidence=float(conf),
        stopping=stopping,
        keys=dict(keys),
        codebook=parse_codebook(data.get("coding"), c),
        require_signed=require_signed,
        text=text,
        path=path,
    )
