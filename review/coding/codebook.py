"""The codebook: ``[[coding.fields]]`` in the protocol (pure; validated like the rest).

```toml
[[coding.fields]]
name = "challenges"
label = "Challenges reported"
kind = "multi"                      # multi | single | text | number | countries
threshold = 0.36                    # optional (choice fields): zero-shot similarity for a yes
[coding.fields.options]
sociopolitical = "inequality, exclusion ..."   # code = description (what the machine reads)
```
Choice fields (``multi``, ``single``) need options; the others must not have any. ``threshold``
(choice fields only) replaces `review suggest`'s default similarity bar (0.36, measured on the demo
codebook) for a codebook whose descriptions read differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

KINDS = ("multi", "single", "text", "number", "countries")
CHOICE_KINDS = ("multi", "single")
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class CodingField:
    name: str
    label: str
    kind: str
    options: tuple[tuple[str, str], ...] = ()  # (code, description), protocol order
    threshold: float | None = None  # zero-shot similarity bar; None: review suggest's default

    @property
    def choice(self) -> bool:
        return self.kind in CHOICE_KINDS

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.options)

    def description(self, code: str) -> str:
        return dict(self.options)[code]


class _Fails(Protocol):
    def fail(self, keypath: str, message: str) -> Exception: ...


def parse(data: Any, checker: _Fails) -> tuple[CodingField, ...]:
    """The ``[coding]`` table -> fields; raises ``checker.fail(keypath, message)`` on bad input."""
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise checker.fail("coding", "must be a table with [[coding.fields]]")
    unknown = set(data) - {"fields"}
    if unknown:
        raise checker.fail(f"coding.{sorted(unknown)[0]}", "unknown key; expected fields")
    raw = data.get("fields", [])
    if not isinstance(raw, list):
        raise checker.fail("coding.fields", "must be an array of [[coding.fields]] tables")
    out: list[CodingField] = []
    names: set[str] = set()
    for i, f in enumerate(raw):
        kp = f"coding.fields[{i}]"
        if not isinstance(f, dict):
            raise checker.fail(kp, "must be a table with name, label and kind")
        extra = set(f) - {"name", "label", "kind", "options", "threshold"}
        if extra:
            raise checker.fail(
                f"{kp}.{sorted(extra)[0]}",
                "unknown key; expected name, label, kind, options, threshold",
            )
        name = f.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise checker.fail(
                f"{kp}.name", f"must be a short identifier like challenges, got {name!r}"
            )
        if name in names:
            raise checker.fail(f"{kp}.name", f"duplicate coding field {name!r}")
        names.add(name)
        label = f.get("label", name)
        if not isinstance(label, str) or not label.strip():
            raise checker.fail(f"{kp}.label", "must be a non-empty string")
        kind = f.get("kind")
        if kind not in KINDS:
            raise checker.fail(
                f"{kp}.kind", f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}"
            )
        opts = f.get("options")
        options: list[tuple[str, str]] = []
        if kind in CHOICE_KINDS:
            if not isinstance(opts, dict) or not opts:
                raise checker.fail(
                    f"{kp}.options", f"a {kind} field needs [coding.fields.options] code = text"
                )
            for code, desc in opts.items():
                if not _NAME_RE.match(code):
                    raise checker.fail(
                        f"{kp}.options.{code}", f"option code {code!r} must be a short identifier"
                    )
                if not isinstance(desc, str) or not desc.strip():
                    raise checker.fail(
                        f"{kp}.options.{code}", "must be a description (what the machine reads)"
                    )
                options.append((code, " ".join(desc.split())))
            if len(options) > 9:
                raise checker.fail(f"{kp}.options", "at most 9 options (number keys 1-9)")
        elif opts is not None:
            raise checker.fail(f"{kp}.options", f"a {kind} field takes no options")
        out.append(
            CodingField(name, label.strip(), kind, tuple(options), _threshold(f, kp, checker))
        )
    return tuple(out)


def _threshold(f: dict[str, Any], kp: str, checker: _Fails) -> float | None:
    t = f.get("threshold")
    if t is None:
        return None
    if f.get("kind") not in CHOICE_KINDS:
        raise checker.fail(f"{kp}.threshold", "only multi and single fields take a threshold")
    if isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t < 1:
        raise checker.fail(
            f"{kp}.threshold", f"must be a similarity between 0 and 1 (e.g. 0.36), got {t!r}"
        )
    return float(t)
