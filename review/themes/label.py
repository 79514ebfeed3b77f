"""Theme labels: class-based TF-IDF keywords, representative titles, protocol seed themes.

c-TF-IDF (as in BERTopic): the texts of a theme form one document; a term's weight is its
frequency in the theme × log(1 + average words per theme / the term's frequency over all themes).
Each theme's centroid is compared with the embedded seed themes from the protocol; the most
similar seed at or above ``SEED_THRESHOLD`` (measured) names the theme (each seed names at most one
theme, the most similar), else its top keywords do; the closest seed's similarity is kept either
way so the report can say how the theme was named.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

# A seed names a theme only from this centroid similarity on (measured, benchmarks/coding.py
# --seed-threshold): on arXiv, at most 10% of wrong namings (a cluster whose own topic has no
# seed, named after the closest other seed) reach 0.58, against half of them at 0.30; on the
# demo a wrong naming ("technological challenges" for a UNDP Namibia lab cluster) scored 0.485.
SEED_THRESHOLD = 0.58
N_KEYWORDS = 8
N_REPRESENTATIVE = 3


@dataclass(frozen=True)
class ThemeLabel:
    theme_id: int
    label: str
    keywords: tuple[str, ...]
    representative: tuple[str, ...]  # titles nearest the centroid
    seed_theme: str | None
    seed_score: float | None
    size: int

    @property
    def match_key(self) -> str:
        """What identifies "the same theme" across runs: its seed theme, else its top keywords."""
        return theme_key(self.seed_theme, self.keywords)


def theme_key(seed_theme: str | None, keywords: Sequence[str]) -> str:
    if seed_theme:
        return f"seed:{seed_theme}"
    return "kw:" + ",".join(sorted(keywords[:3]))


TOKEN = re.compile(r"(?u)\b(?=[a-zA-Z][a-zA-Z0-9-])[a-zA-Z][a-zA-Z0-9]*(?:-[a-zA-Z0-9]+)*\b")


def ctfidf_keywords(
    texts: Sequence[str], labels: np.ndarray, n: int = N_KEYWORDS
) -> dict[int, list[str]]:
    """Top ``n`` c-TF-IDF terms (unigrams and bigrams, English stop words removed) per theme.

    Tokenised as sklearn's CountVectorizer would (lower case, ``TOKEN``, stop words dropped
    before forming bigrams, a theme = its texts joined by spaces), but counted with integer
    codes and ``np.unique`` instead of a theme × vocabulary matrix: with ~1M distinct bigrams
    over 10k texts the dense matrix and the vocabulary sort cost seconds. Weights are the same
    float64 operations and ties are broken alphabetically, so the keywords are the same.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    ids = sorted(set(labels.tolist()) - {-1})
    if not ids:
        return {}
    members: dict[int, list[str]] = {i: [] for i in ids}
    for t, lab in zip(texts, labels.tolist(), strict=True):
        if lab != -1:
            members[lab].append(t)
    vocab: dict[str, int] = {}
    codes: list[np.ndarray] = []
    for i in ids:
        doc = " ".join(members[i]).lower()
        toks = [t for t in TOKEN.findall(doc) if t not in ENGLISH_STOP_WORDS]
        codes.append(
            np.fromiter((vocab.setdefault(t, len(vocab)) for t in toks), np.int64, len(toks))
        )
    if not vocab:  # only stop words
        return {i: [] for i in ids}
    v = len(vocab)
    # a unigram is its word id; a bigram (a, b) is v + a * v + b
    per = [
        np.unique(np.concatenate([c, v + c[:-1] * v + c[1:]]), return_counts=True) for c in codes
    ]
    allk = np.concatenate([k for k, _ in per])
    allc = np.concatenate([c for _, c in per])
    uk, inv = np.unique(allk, return_inverse=True)
    col = np.bincount(inv, weights=allc.astype(np.float64), minlength=len(uk))
    avg_words = float(allc.sum()) / len(ids)
    words = list(vocab)
    out: dict[int, list[str]] = {}
    start = 0
    for i, (keys, cnt) in zip(ids, per, strict=True):
        cnt_f = cnt.astype(np.float64)
        tf = cnt_f / max(cnt_f.sum(), 1.0)
        cs = col[inv[start : start + len(keys)]]
        start += len(keys)
        w = tf * np.log(1.0 + avg_words / np.maximum(cs, 1.0))
        out[i] = _pick(keys, w, n, words) if len(keys) else []
    return out


def _term(code: int, words: list[str]) -> str:
    v = len(words)
    if code < v:
        return words[code]
    a, b = divmod(code - v, v)
    return f"{words[a]} {words[b]}"


def _pick(keys: np.ndarray, w: np.ndarray, n: int, words: list[str]) -> list[str]:
    """Top terms by weight (ties alphabetical), skipping words already inside a picked term."""
    take = min(len(keys), max(64, 16 * n))
    while True:
        if take < len(keys):
            part = np.argpartition(-w, take - 1)[:take]
            cut = w[part].min()
            part = np.flatnonzero(w >= cut)  # every tie at the cut, so the order is exact
        else:
            part = np.arange(len(keys))
        terms = [_term(int(keys[j]), words) for j in part]
        order = sorted(range(len(part)), key=lambda r: (-w[part[r]], terms[r]))
        picked: list[str] = []
        for r in order:
            if w[part[r]] <= 0:
                break
            term = terms[r]
            # skip a unigram already inside a picked bigram and vice versa
            if any(term in p.split() or p in term.split() for p in picked):
                continue
            picked.append(term)
            if len(picked) == n:
                return picked
        if len(part) >= len(keys) or w[part].min() <= 0:
            return picked
        take *= 4


def label_themes(
    texts: Sequence[str],
    titles: Sequence[str],
    vectors: np.ndarray,
    labels: np.ndarray,
    seeds: Sequence[str] = (),
    seed_vectors: np.ndarray | None = None,
    threshold: float = SEED_THRESHOLD,
) -> list[ThemeLabel]:
    """One ``ThemeLabel`` per theme (outliers excluded), in theme-id order."""
    from .cluster import centroids

    kws = ctfidf_keywords(texts, labels)
    cents = centroids(vectors, labels)
    out: list[ThemeLabel] = []
    for t, c in cents.items():
        rows = np.where(labels == t)[0]
        sims = vectors[rows] @ c
        near = rows[np.lexsort((rows, -sims))][:N_REPRESENTATIVE]
        rep = tuple(titles[i] for i in near if titles[i])
        seed, score = None, None
        if seeds and seed_vectors is not None and len(seed_vectors):
            s = seed_vectors @ c
            b = int(np.argmax(s))
            score = round(float(s[b]), 4)  # kept: the report says how close the best seed was
            if score >= threshold:
                seed = seeds[b]
        keywords = tuple(kws.get(t, []))
        out.append(ThemeLabel(t, "", keywords, rep, seed, score, len(rows)))
    # a seed names one theme only: the most similar one; the others keep their keyword labels
    best: dict[str, tuple[float, int]] = {}
    for x in out:
        if x.seed_theme and x.seed_score is not None:
            cur = best.get(x.seed_theme)
            if cur is None or (x.seed_score, -x.theme_id) > (cur[0], -cur[1]):
                best[x.seed_theme] = (x.seed_score, x.theme_id)
    final = []
    for x in out:
        keep = x.seed_theme is not None and best[x.seed_theme][1] == x.theme_id
        seed, score = (x.seed_theme, x.seed_score) if keep else (None, x.seed_score)
        kw_label = ", ".join(x.keywords[:3]) if x.keywords else f"theme {x.theme_id}"
        final.append(replace(x, label=seed or kw_label, seed_theme=seed, seed_score=score))
    return final
