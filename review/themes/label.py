"""Theme labels: class-based TF-IDF keywords, representative titles, protocol seed themes.

c-TF-IDF (as in BERTopic): the texts of a theme form one document; a term's weight is its
frequency in the theme × log(1 + average words per theme / the term's frequency over all themes).
Each theme's centroid is compared with the embedded seed themes from the protocol; the most
similar seed above ``threshold`` names the theme (each seed names at most one theme, the most
similar), else its top keywords do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

SEED_THRESHOLD = 0.30
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


def ctfidf_keywords(
    texts: Sequence[str], labels: np.ndarray, n: int = N_KEYWORDS
) -> dict[int, list[str]]:
    """Top ``n`` c-TF-IDF terms (unigrams and bigrams, English stop words removed) per theme."""
    from sklearn.feature_extraction.text import CountVectorizer

    ids = sorted(set(labels.tolist()) - {-1})
    if not ids:
        return {}
    docs = [" ".join(t for t, lab in zip(texts, labels, strict=True) if lab == i) for i in ids]
    try:
        cv = CountVectorizer(
            stop_words="english",
            ngram_range=(1, 2),
            min_df=1,
            token_pattern=r"(?u)\b(?=[a-zA-Z][a-zA-Z0-9-])[a-zA-Z][a-zA-Z0-9]*(?:-[a-zA-Z0-9]+)*\b",
        )
        counts = cv.fit_transform(docs).toarray().astype(np.float64)
    except ValueError:  # only stop words
        return {i: [] for i in ids}
    terms = np.array(cv.get_feature_names_out())
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    avg_words = counts.sum() / len(ids)
    idf = np.log(1.0 + avg_words / np.maximum(counts.sum(axis=0), 1.0))
    w = tf * idf
    out: dict[int, list[str]] = {}
    for row, i in enumerate(ids):
        order = np.lexsort((terms, -w[row]))  # by weight, ties alphabetical (deterministic)
        picked: list[str] = []
        for j in order:
            if w[row, j] <= 0:
                break
            term = str(terms[j])
            # skip a unigram already inside a picked bigram and vice versa
            if any(term in p.split() or p in term.split() for p in picked):
                continue
            picked.append(term)
            if len(picked) == n:
                break
        out[i] = picked
    return out


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
            if float(s[b]) >= threshold:
                seed, score = seeds[b], round(float(s[b]), 4)
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
        seed, score = (x.seed_theme, x.seed_score) if keep else (None, None)
        kw_label = ", ".join(x.keywords[:3]) if x.keywords else f"theme {x.theme_id}"
        final.append(replace(x, label=seed or kw_label, seed_theme=seed, seed_score=score))
    return final
