"""Deduplicate a workspace: exact identifiers first, then fuzzy matching with blocking.

``plan(rows)`` is pure: record rows in, groups (with the edge that joined each record) and
uncertain pairs out. ``run(ws)`` loads the rows, plans, merges the certain groups and queues the
uncertain pairs in ``dedup_candidates``. It is idempotent: records already in one work form a group
before matching starts, so a second run finds nothing new to merge.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..store import Workspace
from .blocking import candidate_array
from .identifiers import plan_identifiers, record_ids
from .match import (
    DEFAULT_THRESHOLD,
    DUPLICATE,
    MAYBE,
    is_preprint_doi,
    min_title_score,
    score_pair,
    title_similarity,
    title_similarity_many,
)
from .normalize import Features, features, normalize_text

COLUMNS = (
    "id, work_id, title, abstract, authors, year, doi, pmid, openalex_id, isbn, venue, volume, issue,"
    " pages, record_type, file_sha256, url, language, extra, source_record_id, source, database"
)


@dataclass
class Plan:
    groups: list[list[int]] = field(default_factory=list)  # record ids, each list spans >1 work
    edges: dict[int, list[tuple[int, str, float]]] = field(
        default_factory=dict
    )  # rid -> (rid, rule, score)
    candidates: list[tuple[int, int, float, str]] = field(default_factory=list)
    rules: Counter[str] = field(default_factory=Counter)
    containers: dict[str, int] = field(default_factory=dict)  # kind -> identifiers not used


class _Groups:
    """Union-find over record ids that refuses unions across a cannot-link or two different DOIs."""

    def __init__(self, ids: Iterable[int], dois: dict[int, str], cannot: dict[int, set[int]]):
        self.parent = {i: i for i in ids}
        self.members = {i: [i] for i in self.parent}
        self.dois = {i: ({dois[i]} if dois.get(i) else set()) for i in self.parent}
        self.cannot = {i: set(cannot.get(i, ())) for i in self.parent}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int, force: bool = False) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        if not force:
            da, db = self.dois[ra], self.dois[rb]
            if da and db and not (da & db):
                return False
            if self.cannot[ra] and any(m in self.cannot[ra] for m in self.members[rb]):
                return False
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        self.dois[ra] |= self.dois.pop(rb)
        self.cannot[ra] |= self.cannot.pop(rb)
        return True


def _features(row: dict[str, Any]) -> Features:
    authors = row.get("authors")
    if isinstance(authors, str) and authors.startswith("["):
        authors = json.loads(authors)
    return features(
        row["id"],
        title=row.get("title"),
        authors=authors,
        year=row.get("year"),
        pages=row.get("pages"),
        volume=row.get("volume"),
        issue=row.get("issue"),
        venue=row.get("venue"),
        doi=row.get("doi"),
        pmid=row.get("pmid"),
        record_type=row.get("record_type"),
        url=row.get("url"),
        text=row.get("abstract"),
        language=row.get("language"),
    )


def _exact_keys(row: dict[str, Any], f: Features) -> Iterable[tuple[str, str]]:
    """Keys that are the content itself (same file, same text, same long abstract); shared
    identifiers are weighed in ``identifiers.plan_identifiers``."""
    if row.get("file_sha256"):
        yield "sha256", str(row["file_sha256"]).lower()
    if row.get("text_hash"):
        yield "text", row["text_hash"]
    abstract = normalize_text(row.get("abstract"))
    if len(abstract) >= 300 and not f.title_weak:
        yield "abstract", abstract


def plan(
    rows: Sequence[dict[str, Any]],
    *,
    cannot: Iterable[tuple[int, int]] = (),
    threshold: float = DEFAULT_THRESHOLD,
) -> Plan:
    """Group record rows (dicts with our record columns and ``work_id``) into duplicate groups."""
    feats = [_features(r) for r in rows]
    work_of = {r["id"]: r["work_id"] for r in rows}
    ids = {f.rid: record_ids(r, f) for r, f in zip(rows, feats, strict=True)}
    by_id = {f.rid: f for f in feats}
    abstracts = {r["id"]: r["abstract"] for r in rows if r.get("abstract")}  # raw: rarely read
    idp = plan_identifiers({k: v for k, v in ids.items() if v}, by_id, abstracts, work_of)
    feats = _without_containers(feats, idp.containers)
    by_id = {f.rid: f for f in feats}
    cl: dict[int, set[int]] = defaultdict(set)
    for x, y in cannot:
        cl[x].add(y)
        cl[y].add(x)
    g = _Groups(by_id, {f.rid: f.doi for f in feats}, cl)
    result = Plan()
    edges: dict[int, list[tuple[int, str, float]]] = defaultdict(list)

    def join(a: int, b: int, rule: str, score: float, force: bool = False) -> None:
        if g.union(a, b, force=force):
            edges[a].append((b, rule, score))
            edges[b].append((a, rule, score))
            result.rules[rule] += 1

    by_work: dict[int, int] = {}
    for r in rows:  # records already in one work stay together
        w = r["work_id"]
        if w in by_work:
            join(by_work[w], r["id"], "existing", 1.0, force=True)
        else:
            by_work[w] = r["id"]

    for a_id, b_id, rule in idp.merges:
        join(a_id, b_id, rule, 1.0)
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r, f in zip(rows, feats, strict=True):
        for key in _exact_keys(r, f):
            index[key].append(f.rid)
    for (rule, _), rids in sorted(index.items(), key=lambda kv: _RULE_ORDER.get(kv[0][0], 9)):
        for other in rids[1:]:
            a, b = by_id[rids[0]], by_id[other]
            if rule == "abstract" and title_similarity(a.title, b.title) < 0.8:
                continue
            if a.doi and b.doi and a.doi != b.doi:
                continue
            join(a.rid, b.rid, rule, 1.0)

    dup: list[tuple[float, int, int, str]] = []
    maybe: list[tuple[int, int, float, str]] = []
    pairs = candidate_array(feats)
    pairs = pairs[_worth_scoring(pairs, feats, g)]
    pairs = pairs[_could_match(pairs, feats, threshold)]
    for i, j in pairs.tolist():
        a, b = feats[i], feats[j]
        v = score_pair(a, b, threshold)
        if v.decision == DUPLICATE:
            dup.append((v.score, a.rid, b.rid, v.rule))
        elif v.decision == MAYBE:
            maybe.append((min(a.rid, b.rid), max(a.rid, b.rid), round(v.score, 4), v.rule))
    dup.sort(key=lambda d: -d[0])
    for score, a_id, b_id, rule in dup:
        join(a_id, b_id, rule, round(score, 4))
    maybe.extend((a, b, 0.5, f"{kind}-only") for a, b, kind in idp.queue)
    seen: set[tuple[int, int]] = set()
    result.candidates = []
    for m in maybe:
        if g.find(m[0]) != g.find(m[1]) and m[1] not in cl.get(m[0], ()) and m[:2] not in seen:
            seen.add(m[:2])
            result.candidates.append(m)
    result.containers = {k: len(v) for k, v in idp.containers.items()}
    for members in g.members.values():
        if len({work_of[m] for m in members}) > 1:
            result.groups.append(sorted(members))
    result.edges = dict(edges)
    return result


def _codes(values: Iterable[str]) -> np.ndarray:
    """Each distinct non-empty string as a positive integer, '' as 0."""
    ids: dict[str, int] = {"": 0}
    return np.array([ids.setdefault(v, len(ids)) for v in values], dtype=np.int64)


def _worth_scoring(pairs: np.ndarray, feats: Sequence[Features], g: _Groups) -> np.ndarray:
    """Mask of the candidate pairs ``score_pair`` could call anything but distinct, in bulk.

    Drops pairs already in one group and the ones ``score_pair`` rejects first: conflicting DOIs
    or PMIDs, years more than two apart. Same result as scoring them, without a Python call each.
    """
    if not len(pairs):
        return np.zeros(0, dtype=bool)
    n = len(feats)
    i, j = pairs[:, 0], pairs[:, 1]
    years = np.fromiter((-1 if f.year is None else f.year for f in feats), np.int64, n)
    ya, yb = years[i], years[j]
    ok = (ya < 0) | (yb < 0) | (np.abs(ya - yb) <= 2)
    dois = _codes("" if is_preprint_doi(f.doi) else f.doi for f in feats)  # may be queued
    for codes in (dois, _codes(f.pmid for f in feats)):
        ca, cb = codes[i], codes[j]
        ok &= (ca == 0) | (cb == 0) | (ca == cb)
    roots = np.fromiter((g.find(f.rid) for f in feats), np.int64, n)
    ok &= roots[i] != roots[j]
    return ok


def _could_match(pairs: np.ndarray, feats: Sequence[Features], threshold: float) -> np.ndarray:
    """Mask of the pairs worth a ``score_pair`` call, from title similarity computed in bulk.

    A pair is dropped only when ``score_pair`` would certainly call it distinct: titles below
    ``min_title_score``, neither title a prefix of the other, no shared DOI, and not the same
    volume and first author (a superset of its 'bibliographic' rule).
    """
    if not len(pairs):
        return np.zeros(0, dtype=bool)
    i, j = pairs[:, 0], pairs[:, 1]
    ta = [feats[k].title for k in i.tolist()]
    tb = [feats[k].title for k in j.tolist()]
    keep = title_similarity_many(ta, tb) >= min_title_score(threshold) - 1e-9
    keep |= np.fromiter(
        (x.startswith(y) or y.startswith(x) for x, y in zip(ta, tb, strict=True)), bool, len(ta)
    )
    vol = _codes(f.volume for f in feats)
    first = _codes(f.authors[0] if f.authors else "" for f in feats)
    doi = _codes(f.doi for f in feats)
    keep |= (vol[i] > 0) & (vol[i] == vol[j]) & (first[i] > 0) & (first[i] == first[j])
    keep |= (doi[i] > 0) & (doi[i] == doi[j])
    return keep


_RULE_ORDER = {"sha256": 3, "text": 4, "abstract": 6}


def _without_containers(feats: list[Features], containers: dict[str, set[str]]) -> list[Features]:
    """Features with container DOIs/PMIDs blanked: they neither merge nor keep records apart."""
    dois, pmids = containers.get("doi", set()), containers.get("pmid", set())
    if not dois and not pmids:
        return feats
    return [
        replace(
            f,
            doi="" if f.doi in dois else f.doi,
            pmid="" if f.pmid in pmids else f.pmid,
        )
        if (f.doi in dois or f.pmid in pmids)
        else f
        for f in feats
    ]


def load_rows(ws: Workspace) -> list[dict[str, Any]]:
    rows = list(
        ws.db.query(
            f"SELECT {COLUMNS} FROM records WHERE work_id IN (SELECT id FROM works WHERE active = 1) ORDER BY id"
        )
    )
    if "documents" in ws.db.table_names():
        texts: dict[int, str] = {}
        for rid, text in ws.db.execute(
            "SELECT record_id, text FROM documents WHERE record_id IS NOT NULL AND text IS NOT NULL"
        ):
            norm = normalize_text(text[:20000])
            if len(norm) >= 200:
                texts[rid] = norm
        for r in rows:
            if r["id"] in texts:
                r["text_hash"] = texts[r["id"]]
    return rows


def cannot_links(ws: Workspace) -> list[tuple[int, int]]:
    return [
        (a, b)
        for a, b in ws.db.execute(
            "SELECT record_a, record_b FROM dedup_candidates WHERE status = 'distinct'"
        )
    ]


def run(
    ws: Workspace,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    actor: str = "review dedup",
    dry_run: bool = False,
) -> dict[str, Any]:
    """Merge certain duplicates, queue uncertain pairs; return what was done (``runs.run``)."""
    from .runs import run as _run

    return _run(ws, threshold=threshold, actor=actor, dry_run=dry_run)


def pending_count(ws: Workspace) -> int:
    return int(
        ws.db.execute("SELECT COUNT(*) FROM dedup_candidates WHERE status = 'pending'").fetchone()[
            0
        ]
    )
