"""``review suggest``: per work and option a score in [0, 1], yes/no at a stated threshold, and
the sentence that most supports it (with its page for PDFs).

Zero-shot (no confirmed codes): the option's description is embedded (all-MiniLM-L6-v2), and so
is each of its facets (the description split at top-level commas: "fragmented mandates", "weak
coordination between agencies or levels of government", ...), and every sentence of the work
(title, abstract, full text of attached PDFs/pages; all cached by content hash). A sentence's
similarity to an option is the mean of its cosine similarity to the whole description and to
the closest facet; the option's similarity is the mean of its ``TOP_K`` (2) best sentences, and
the best sentence is the evidence. The score maps it through a logistic curve centred on
``SIMILARITY_THRESHOLD``: score >= 0.5 <=> similarity >= 0.36. Rule and threshold were chosen
on 53 hand-coded works (two coders, union) among rules statable without the sample, and
measured on 64 other works never used for choosing (benchmarks/README.md, "Coding details").
Ten precision rules stated later (a title bar, two sentences, a margin to the best option, a
length-aware null, a problem word) did not beat it over 500 random halves of all 117 works
(benchmarks/coding_rules.py).

Few-shot: an option with at least ``MIN_EACH`` confirmed works coded yes and ``MIN_EACH`` coded
no gets a logistic regression on [the option similarities, the work's mean sentence vector],
blended with the zero-shot score by n / (n + 20) for n confirmed works. The run says so.

Every run is logged (``coding_runs``: model, parameters, versions) with its suggestions; a new
run never overwrites an old one -- the latest run covering a work is the one shown.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..models import text_hash
from ..store.workspace import Workspace, now
from ..themes.embed import DEFAULT_MODEL, Encoder, embed
from . import CodingError, cities
from .codebook import CodingField
from .scope import Scope, select
from .store import confirmed
from .text import MAX_SENTENCES, Sentence, sentences

SIMILARITY_THRESHOLD = 0.36
TOP_K = 2
RULE = (
    f"mean of the {TOP_K} best sentences; a sentence scores the mean of its cosine similarity to the"
    " option's description and to its closest facet (description split at top-level commas)"
)
TEMPERATURE = 0.05
MIN_EACH = 3
BLEND_PRIOR = 20


@dataclass(frozen=True)
class Suggestion:
    work_id: int
    field: str
    value: str
    score: float
    suggested: bool
    evidence: str | None
    place: str | None  # title | abstract | p. 3 | full text
    page: int | None = None
    document_id: int | None = None
    similarity: float | None = None


@dataclass(frozen=True)
class SuggestResult:
    run_id: int
    scope: Scope
    fields: tuple[str, ...]
    method: str  # zero-shot | few-shot
    threshold: float
    few_shot: dict[str, int]  # "field.option" -> confirmed works it learnt from
    suggestions: tuple[Suggestion, ...]
    embedded: int
    seconds: float
    notes: tuple[str, ...] = field(default=())
    similarity_thresholds: dict[str, float] = field(default_factory=dict)  # choice field -> bar


def zero_shot_score(similarity: float, threshold: float = SIMILARITY_THRESHOLD) -> float:
    return 1.0 / (1.0 + math.exp(-(similarity - threshold) / TEMPERATURE))


def similarity_threshold(f: CodingField) -> float:
    """The field's own bar from the protocol (``threshold``), else the measured default."""
    return SIMILARITY_THRESHOLD if f.threshold is None else f.threshold


def sentence_key(text: str) -> str:
    return text_hash(f"sentence\n{text}")


def option_key(text: str) -> str:
    return text_hash(f"coding option\n{text}")


def facets(description: str) -> list[str]:
    """The description split at commas/semicolons outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in description:
        depth += (ch == "(") - (ch == ")")
        if ch in ",;" and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return [x for x in [*out, cur.strip()] if x]


@dataclass
class _WorkVectors:
    sents: list[Sentence]
    sims: np.ndarray  # sentences x options: mean of description and closest-facet similarity
    mean: np.ndarray

    def option_sims(self) -> np.ndarray:
        """Per option, the mean of its ``TOP_K`` best sentences."""
        return np.asarray(np.sort(self.sims, axis=0)[::-1][:TOP_K].mean(axis=0))


def _vectors(
    ws: Workspace,
    f: CodingField,
    work_ids: Sequence[int],
    model: str,
    encoder: Encoder | None,
    progress: Callable[[int, int], None] | None,
) -> dict[int, _WorkVectors]:
    sents = sentences(ws, work_ids)
    items = [(sentence_key(s.text), s.text) for ss in sents.values() for s in ss]
    descs = [f.description(c) for c in f.codes]
    facs = [facets(d) or [d] for d in descs]
    opts = descs + [x for fs in facs for x in fs]
    mat = embed(ws, items + [(option_key(d), d) for d in opts], model, encoder, progress)
    opt = mat[len(items) : len(items) + len(descs)]
    fac = mat[len(items) + len(descs) :]
    ends = np.cumsum([len(fs) for fs in facs])
    spans = list(zip(ends - [len(fs) for fs in facs], ends, strict=True))
    out: dict[int, _WorkVectors] = {}
    i = 0
    for wid in work_ids:
        ss = sents.get(wid, [])
        v = mat[i : i + len(ss)]
        i += len(ss)
        if ss:
            closest = np.stack([(v @ fac[a:b].T).max(axis=1) for a, b in spans], axis=1)
            out[wid] = _WorkVectors(ss, (v @ opt.T + closest) / 2, v.mean(axis=0))
    return out


def _few_shot(
    f: CodingField, vecs: dict[int, _WorkVectors], codes: dict[int, list[str]]
) -> dict[str, tuple[Any, int]]:
    """{option: (fitted model, n confirmed)} for options with enough yes and no examples."""
    from sklearn.linear_model import LogisticRegression

    train = [w for w in codes if w in vecs]
    out: dict[str, tuple[Any, int]] = {}
    for c in f.codes:
        y = np.array([c in (codes[w] or []) for w in train], dtype=int)
        if y.sum() < MIN_EACH or (len(y) - y.sum()) < MIN_EACH:
            continue
        x = np.stack([_features(vecs[w]) for w in train])
        lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
        lr.fit(x, y)
        out[c] = (lr, len(train))
    return out


def _features(v: _WorkVectors) -> np.ndarray:
    return np.concatenate([v.option_sims(), v.mean])


def _choice(
    ws: Workspace,
    f: CodingField,
    ids: Sequence[int],
    model: str,
    encoder: Encoder | None,
    progress: Callable[[int, int], None] | None,
    few: dict[str, int],
) -> list[Suggestion]:
    conf = {k[0]: c.value for k, c in confirmed(ws, f.name).items()}
    want = list(dict.fromkeys([*ids, *conf]))
    vecs = _vectors(ws, f, want, model, encoder, progress)
    models = _few_shot(f, vecs, conf) if conf else {}
    bar = similarity_threshold(f)
    out: list[Suggestion] = []
    for wid in ids:
        v = vecs.get(wid)
        option_sims = v.option_sims() if v is not None else None
        for j, c in enumerate(f.codes):
            if v is None or option_sims is None:
                out.append(Suggestion(wid, f.name, c, 0.0, False, None, None))
                continue
            best = int(np.argmax(v.sims[:, j]))
            sim = float(option_sims[j])
            score = zero_shot_score(sim, bar)
            if c in models:
                lr, n = models[c]
                p = float(lr.predict_proba(_features(v)[None, :])[0, 1])
                w = n / (n + BLEND_PRIOR)
                score = w * p + (1 - w) * score
                few[f"{f.name}.{c}"] = n
            s = v.sents[best]
            out.append(
                Suggestion(
                    wid,
                    f.name,
                    c,
                    round(score, 4),
                    score >= 0.5,
                    s.text,
                    s.place,
                    s.page,
                    s.document_id,
                    round(sim, 4),
                )  # fmt: skip
            )
    return out


def versions() -> dict[str, str]:
    from ..themes.run import versions as v

    return v()


def suggest(
    ws: Workspace,
    field_name: str | None = None,
    stage: str | None = None,
    model: str = DEFAULT_MODEL,
    encoder: Encoder | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SuggestResult:
    """Score every work in scope for every option of the field (default: every field) and log it."""
    from . import prefill  # countries and cities; it builds on this module's Suggestion

    t0 = time.perf_counter()
    proto = ws.require_protocol()
    if not proto.codebook:
        raise CodingError(
            "the protocol has no codebook; add [[coding.fields]] (see README, Coding)",
            path=proto.path,
        )
    fields = [f for f in proto.codebook if field_name is None or f.name == field_name]
    if not fields:
        raise CodingError(
            f"no coding field {field_name!r}; fields: {', '.join(f.name for f in proto.codebook)}"
        )
    scope = select(ws, stage)
    if not scope.work_ids:
        raise CodingError(f"nothing to code: {scope.description}", path=str(ws.path))
    before = ws.db.execute("SELECT COUNT(*) FROM embeddings WHERE model = ?", [model]).fetchone()[0]
    few: dict[str, int] = {}
    sugg: list[Suggestion] = []
    notes = []
    for f in fields:
        if f.choice:
            sugg += _choice(ws, f, scope.work_ids, model, encoder, progress, few)
        elif f.kind == "countries":
            sugg += prefill.countries(ws, f, scope.work_ids)
        elif f.kind == "text" and cities.is_city_field(f):
            sugg += prefill.cities(ws, f, scope.work_ids)
        else:
            notes.append(f"{f.name} ({f.kind}): no suggestions; reviewers fill it in")
    embedded = (
        ws.db.execute("SELECT COUNT(*) FROM embeddings WHERE model = ?", [model]).fetchone()[0]
        - before
    )
    method = "few-shot" if few else "zero-shot"
    bars = {f.name: similarity_threshold(f) for f in fields if f.choice}
    params = {
        "similarity_threshold": SIMILARITY_THRESHOLD, "temperature": TEMPERATURE,
        "similarity_thresholds": bars,
        "rule": RULE, "top_k": TOP_K,
        "score_threshold": 0.5, "max_sentences": MAX_SENTENCES, "min_each": MIN_EACH,
        "blend_prior": BLEND_PRIOR, "few_shot": few, "scope": scope.description,
        "options": {f.name: {c: option_key(f.description(c)) for c in f.codes} for f in fields},
        "facets": {f.name: {c: facets(f.description(c)) for c in f.codes} for f in fields},
    }  # fmt: skip
    seconds = time.perf_counter() - t0
    run_id = log_run(ws, sugg, method, field_name, scope, params, seconds, few, model)
    return SuggestResult(
        run_id, scope, tuple(f.name for f in fields), method, 0.5, few, tuple(sugg),
        int(embedded), seconds, tuple(notes), bars,
    )  # fmt: skip


def log_run(
    ws: Workspace,
    sugg: Sequence[Suggestion],
    method: str,
    field_name: str | None,
    scope: Scope,
    params: dict[str, Any],
    seconds: float = 0.0,
    few: dict[str, int] | None = None,
    model: str = DEFAULT_MODEL,
) -> int:
    """Store one suggestion run and its suggestions (append-only); returns the run id."""
    few = few or {}
    with ws.transaction():
        cur = ws.db.conn.execute(
            "INSERT INTO coding_runs (created_at, field, stage, method, model, threshold, params,"
            " versions, n_works, n_training, seconds) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                now(), field_name, scope.stage, method, model, 0.5,
                json.dumps(params, sort_keys=True), json.dumps(versions(), sort_keys=True),
                len(scope.work_ids), max(few.values(), default=0), round(seconds, 3),
            ],
        )  # fmt: skip
        run_id = int(cur.lastrowid)  # type: ignore[arg-type]
        ws.db.conn.executemany(
            "INSERT INTO coding_suggestions (run_id, work_id, field, value, score, suggested,"
            " evidence, page, document_id) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (run_id, s.work_id, s.field, s.value, s.score, int(s.suggested),
                 None if s.evidence is None else f"{s.place}: {s.evidence}" if s.place else s.evidence,
                 s.page, s.document_id)
                for s in sugg
            ],
        )  # fmt: skip
    return run_id


def latest(
    ws: Workspace, work_ids: Sequence[int] | None = None, field_name: str | None = None
) -> dict[tuple[int, str], list[dict[str, Any]]]:
    """{(work, field): suggestion rows of the latest run that scored that work and field}.

    This workspace's own runs come first: a run imported from another group's bundle (its
    ``group_name`` set) is shown only where no run of ours scored the work and field."""
    where: list[str] = ["1=1"]
    args: list[Any] = []
    if field_name is not None:
        where.append("s.field = ?")
        args.append(field_name)
    if work_ids is not None:
        ids = list(work_ids)
        if len(ids) <= 500:
            where.append(f"s.work_id IN ({','.join('?' * len(ids))})")
            args += ids
    rows = ws.db.execute(
        "SELECT s.run_id, s.work_id, s.field, s.value, s.score, s.suggested, s.evidence, s.page,"
        " s.document_id, r.method, r.group_name IS NULL FROM coding_suggestions s"
        f" JOIN coding_runs r ON r.id = s.run_id WHERE {' AND '.join(where)} ORDER BY s.run_id",
        args,
    ).fetchall()
    wanted = set(work_ids) if work_ids is not None else None
    runs: dict[tuple[int, str], tuple[int, int]] = {}  # (ours, run id): ours first, then latest
    for r in rows:
        key = (r[1], r[2])
        runs[key] = max(runs.get(key, (0, 0)), (r[10], r[0]))
    out: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in rows:
        key = (r[1], r[2])
        if runs[key][1] != r[0] or (wanted is not None and r[1] not in wanted):
            continue
        out.setdefault(key, []).append(
            {
                "run_id": r[0],
                "work_id": r[1],
                "field": r[2],
                "value": r[3],
                "score": r[4],
                "suggested": bool(r[5]),
                "evidence": r[6],
                "page": r[7],
                "document_id": r[8],
                "method": r[9],
            }  # fmt: skip
        )
    return out
