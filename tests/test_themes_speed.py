"""The fast paths of a themes run give the same answers as the straightforward versions."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from review.errors import ThemeError
from review.models import text_hash
from review.themes import embed, regions
from review.themes.cluster import pca
from review.themes.label import TOKEN, ctfidf_keywords

DATA = Path(__file__).parent / "data" / "clustering" / "arxiv_200.csv"


@pytest.fixture(scope="module")
def texts() -> list[str]:
    with open(DATA, encoding="utf-8") as f:
        return [
            f"{' '.join(r['title'].split())}\n{' '.join(r['abstract'].split())}"
            for r in csv.DictReader(f)
        ]


def reference_keywords(texts: list[str], labels: np.ndarray, n: int = 8) -> dict[int, list[str]]:
    """c-TF-IDF with sklearn's CountVectorizer and a dense theme × term matrix."""
    from sklearn.feature_extraction.text import CountVectorizer

    ids = sorted(set(labels.tolist()) - {-1})
    docs = [" ".join(t for t, lab in zip(texts, labels, strict=True) if lab == i) for i in ids]
    cv = CountVectorizer(stop_words="english", ngram_range=(1, 2), token_pattern=TOKEN.pattern)
    counts = cv.fit_transform(docs).toarray().astype(np.float64)
    terms = np.array(cv.get_feature_names_out())
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    w = tf * np.log(1.0 + counts.sum() / len(ids) / np.maximum(counts.sum(axis=0), 1.0))
    out = {}
    for row, i in enumerate(ids):
        picked: list[str] = []
        for j in np.lexsort((terms, -w[row])):
            if w[row, j] <= 0 or len(picked) == n:
                break
            if not any(terms[j] in p.split() or p in terms[j].split() for p in picked):
                picked.append(str(terms[j]))
        out[i] = picked
    return out


@pytest.mark.parametrize("k", [1, 3, 12])
def test_ctfidf_matches_the_countvectorizer_matrix(texts: list[str], k: int) -> None:
    labels = np.random.default_rng(k).integers(-1, k, len(texts))
    got = ctfidf_keywords(texts, labels)
    assert got == reference_keywords(texts, labels)
    assert all(len(v) == 8 for v in got.values())


def test_ctfidf_stop_words_only() -> None:
    assert ctfidf_keywords(["the and of", "of the"], np.array([0, 1])) == {0: [], 1: []}


TRICKY = [
    "Swaziland and eSwatini; DRC, Congo-Kinshasa and the Republic of the Congo",
    "Côte d'Ivoire, São Tomé e Príncipe, Guinea-Bissau and Papua New Guinea.",
    "(Kenya) / South-Africa / Moçambique / Afrique du Sud / Cabo Delgado",
    "Bosnia and Herzegovina, the United Republic of Tanzania, Tanzania",
]


def test_country_prefilter_finds_what_the_full_gazetteer_finds(texts, monkeypatch) -> None:
    fast = [regions.find_countries(t) for t in texts + TRICKY]
    every = tuple(sorted(regions.gazetteer(), key=lambda s: (-len(s), s)))
    monkeypatch.setattr(regions, "_candidates", lambda text: every)  # the one big alternation
    slow = [regions.find_countries(t) for t in texts + TRICKY]
    assert fast == slow
    assert sum(bool(f) for f in fast) >= len(TRICKY)
    assert {"SZ", "CD", "CG"} <= set(fast[len(texts)])


def test_cached_embeddings_need_no_model(ws) -> None:
    items = [(text_hash(f"text {i}"), f"text {i}") for i in range(5)]
    vecs = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    with ws.transaction():
        ws.db.conn.executemany(
            "INSERT INTO embeddings (content_hash, model, dim, vector, created_at) VALUES (?,?,?,?,?)",
            [
                (h, "no-such-model", 8, embed.to_blob(v), "x")
                for (h, _), v in zip(items, vecs, strict=True)
            ],
        )
    got = embed.embed(ws, items[::-1] + items[:1], model="no-such-model")  # order and repeats kept
    want = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    assert got.dtype == np.float32
    assert np.allclose(got, np.vstack([want[::-1], want[:1]]))
    with pytest.raises(ThemeError, match="cannot load embedding model"):
        embed.embed(ws, [*items, ("new", "an uncached text")], model="no-such-model")


def test_pca_matches_sklearn_up_to_sign() -> None:
    from sklearn.decomposition import PCA

    x = np.random.default_rng(1).normal(size=(300, 40)) * np.linspace(3, 0.1, 40)
    ref = PCA(n_components=5, svd_solver="full").fit_transform(x)
    got = pca(x, 5)
    assert np.allclose(np.abs(got), np.abs(ref), atol=1e-9)
