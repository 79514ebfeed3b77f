"""Round 4 for `review suggest` (zero-shot): scorers that change how works are RANKED per option,
not only where the threshold sits. Rounds 1-3 (coding_variants.py, coding_rules.py) found that no
threshold or precision rule on the shipped similarity reaches the goal (in-sample ceiling 0.66,
AUC governance 0.73, sociopolitical 0.73): the ranking itself must improve.

Every scorer below uses only the workspace's unlabelled texts (212 works of the demo corpus) and
the codebook -- no code made by a person -- so each is usable by `review suggest` on any review.
Stated, with every parameter fixed, and committed before anything was measured with them.
``S`` is the shipped option similarity (mean of the two best sentences; a sentence scores the
mean of its cosine to the option's description and to its closest facet); ``pct(x)`` is the
percentile rank of a work's value among all works of the workspace (unlabelled, ties averaged).
  current   S                                                          (as shipped)
  p  prf    Rocchio pseudo-relevance feedback (Rocchio 1971; alpha = beta = 1, no negatives):
            per option, the query becomes unit(d) + mean of the unit vectors of the workspace's
            top 1% sentences by their sentence score (at least 10); a sentence scores the mean of
            its cosine to that query and to its closest facet; top-2 mean as for S.
  k  kw-fuse  (pct(S) + pct(K)) / 2, K = the number of distinct description phrases (the keyword
            baseline's phrases and matcher, benchmarks/coding.py) found in the work's text
  g  kw-gate  S, and no suggestion unless at least one description phrase occurs in the work
  t  self-train  per option, pseudo-labels on the workspace's works: the top 15% by S positive,
            the bottom 50% negative; TF-IDF of the work's text (sublinear tf, min_df 2, English
            stop words) -> logistic regression (C = 1, balanced); score (pct(S) + pct(P)) / 2,
            P the model's probability for every work
  pk        p and k together: (pct(S_prf) + pct(K)) / 2
Round 5 (stated after round 4 found no scorer that passes, before measuring these): a second,
different embedding whose weights ship inside a PyPI wheel (WordLlama 0.4.0, `l2_supercat`, 256
dimensions, static token embeddings pooled; its wheel carries the weights, so it works offline).
``--extra-vectors FILE.npy`` gives its unit vectors for the texts ``--dump-texts FILE.json``
wrote (every sentence, then the descriptions, then the facets), computed in a scratch venv:
  w  wordllama  S computed the same way with WordLlama vectors
  wf fused      (pct(S) + pct(S_w)) / 2 (two different models' rankings, equal weight)
Round 6, FEW-SHOT (``--few-shot``; stated before measuring): the tune half plays the reviewers'
confirmed codes (58 works), the test half the works still to code. Compared on the same halves:
  zero-shot    current S, the one threshold tuned on the tune half (as above)
  lr shipped   review suggest's few-shot: per option with 3+ yes and 3+ no confirmed, logistic
               regression (C = 1, balanced) on [the 5 option S, the work's mean sentence vector],
               blended with the zero-shot score by n / (n + 20); yes at 0.5 (as shipped)
  lr tuned     the same blend, its threshold tuned on the tune half
  rocchio      relevance feedback with the confirmed codes (Rocchio; SMART's alpha 1, beta 0.75,
               gamma 0.15): the option's query = unit(d) + 0.75 x mean over confirmed-yes works
               of the unit mean of their 2 best sentences - 0.15 x the same over confirmed-no
               works; a sentence scores the mean of its cosine to that query and to its closest
               facet; top-2 mean; threshold tuned on the tune half
Adoption (few-shot path of review suggest): beats lr shipped and zero-shot on the mean test
macro-F1 in >= 70% of halves, no option -0.03 against zero-shot.
Measured exactly as coding_rules.py: 500 random halves of the 117 hand-coded works (seed 0),
one threshold for all options tuned on one half (grid 0.01), macro-F1 on the other; the 53
scored against the union of both coders, the 64 against coder 2. Adoption in
review/coding/suggest.py only if a scorer beats current on the mean test macro-F1, in >= 70%
of the halves, and lowers no option's mean test F1 by more than 0.03 -- and then the goal
(0.77, no option < 0.6) is checked on its figures; a gain short of the goal is still reported.

    .venv/bin/python benchmarks/coding_scorers.py [--workspace /tmp/review-bench-coding.db]
        [--splits 500]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from coding import build, gold, keyword_pattern, phrases  # noqa: E402
from coding_rules import DATA, Rule, auc, embedded, report, top2  # noqa: E402

from review.coding.text import sentences  # noqa: E402

PRF_SHARE, PRF_MIN = 0.01, 10
POS_SHARE, NEG_SHARE = 0.15, 0.50


def pct(x: np.ndarray) -> np.ndarray:
    """Percentile rank per column among the rows (ties averaged), in (0, 1]."""
    from scipy.stats import rankdata

    return np.asarray(rankdata(x, axis=0) / len(x))


def unit(m: np.ndarray) -> np.ndarray:
    return np.asarray(m / np.linalg.norm(m, axis=-1, keepdims=True))


def load(ws_path: Path) -> dict[str, object]:
    """Every work of the workspace: its sentence vectors, facet part, and texts."""
    ws = build(ws_path)
    e = embedded(ws)
    f, ids, sents, items = e.field, e.ids, e.sents, e.items
    full = sentences(ws, ids, limit=10**6)
    ws.close()
    sv, dv, fv, spans = e.sv, e.dv, e.fv, e.spans
    descs = [f.description(c) for c in f.codes]
    texts = [t for _, t in items] + e.options
    fac = np.stack([(sv @ fv[a:b].T).max(axis=1) for a, b in spans], axis=1)
    owner = np.concatenate([[k] * len(sents[w]) for k, w in enumerate(ids)])
    text = ["\n".join(s.text for s in full[w]) for w in ids]
    pats = [[keyword_pattern(p) for p in phrases(d)] for d in descs]
    kw = np.array([[sum(bool(p.search(t)) for p in ps) for ps in pats] for t in text], float)
    tonly = np.array([{s.where for s in sents[w]} == {"title"} for w in ids])
    return dict(
        codes=f.codes, ids=ids, sv=sv, dv=dv, fac=fac, owner=owner, text=text, kw=kw, tonly=tonly,
        texts=texts, spans=spans,
    )  # fmt: skip


def per_work(sent_scores: np.ndarray, owner: np.ndarray, n_works: int) -> np.ndarray:
    return np.stack([top2(sent_scores[owner == k]) for k in range(n_works)])


def scorers(d: dict[str, object]) -> dict[str, np.ndarray]:
    """works (all of the workspace) x options, one array per scorer."""
    sv, dv, fac, owner = (np.asarray(d[k]) for k in ("sv", "dv", "fac", "owner"))
    kw = np.asarray(d["kw"])
    nw = len(d["ids"])  # type: ignore[arg-type]
    sent = (sv @ dv.T + fac) / 2
    cur = per_work(sent, owner, nw)
    k_top = max(PRF_MIN, int(np.ceil(PRF_SHARE * len(sv))))
    q = np.stack(
        [unit(unit(dv[j]) + unit(sv[np.argsort(-sent[:, j])[:k_top]]).mean(axis=0))
         for j in range(dv.shape[0])]
    )  # fmt: skip
    prf = per_work((sv @ q.T + fac) / 2, owner, nw)
    out = {
        "current (mix top-2)": cur,
        "p prf": prf,
        "k kw-fuse": (pct(cur) + pct(kw)) / 2,
        "t self-train": (pct(cur) + pct(self_train(d["text"], cur))) / 2,  # type: ignore[arg-type]
        "pk prf+kw": (pct(prf) + pct(kw)) / 2,
    }
    return out


def second_model(d: dict[str, object], mat: np.ndarray) -> np.ndarray:
    """S with another model's vectors for the same texts (sentences, descriptions, facets)."""
    owner = np.asarray(d["owner"])
    n, k = len(owner), np.asarray(d["dv"]).shape[0]
    sv, dv, fv = mat[:n], mat[n : n + k], mat[n + k :]
    fac = np.stack([(sv @ fv[a:b].T).max(axis=1) for a, b in d["spans"]], axis=1)  # type: ignore[attr-defined]
    return per_work((sv @ dv.T + fac) / 2, owner, len(d["ids"]))  # type: ignore[arg-type]


def few_shot(d: dict[str, object], sel: np.ndarray, y: np.ndarray, n_splits: int) -> None:
    from sklearn.linear_model import LogisticRegression

    from review.coding.suggest import BLEND_PRIOR, MIN_EACH, SIMILARITY_THRESHOLD, TEMPERATURE

    sv, dv, fac, owner = (np.asarray(d[k]) for k in ("sv", "dv", "fac", "owner"))
    rows = [np.flatnonzero(owner == k) for k in sel]
    sims = [(sv[r] @ dv.T + fac[r]) / 2 for r in rows]
    cur = np.stack([top2(m) for m in sims])
    top = np.stack(
        [
            unit(
                np.stack(
                    [unit(sv[r][np.argsort(-m[:, j])[:2]].mean(0)) for j in range(dv.shape[0])]
                )
            )
            for r, m in zip(rows, sims, strict=True)
        ]
    )  # fmt: skip  works x options x dim
    feats = np.concatenate([cur, np.stack([sv[r].mean(0) for r in rows])], axis=1)
    z = 1 / (1 + np.exp(-(cur - SIMILARITY_THRESHOLD) / TEMPERATURE))
    rng = np.random.default_rng(0)
    n, k = y.shape
    grid = np.round(np.arange(0.0, 1.001, 0.01), 2)

    def f1(p: np.ndarray, t: np.ndarray) -> np.ndarray:
        tp, fp, fn = (p & t).sum(0), (p & ~t).sum(0), (~p & t).sum(0)
        return np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)

    def tuned(s: np.ndarray, m: np.ndarray, g: np.ndarray) -> np.ndarray:
        best = max(g, key=lambda t: (f1(s[m] >= t, y[m]).mean(), -t))
        return f1(s[~m] >= best, y[~m])

    res: dict[str, list[np.ndarray]] = {
        x: [] for x in ("zero-shot", "lr shipped", "lr tuned", "rocchio")
    }
    for _ in range(n_splits):
        m = np.zeros(n, dtype=bool)
        m[rng.permutation(n)[: n // 2]] = True
        res["zero-shot"].append(tuned(cur, m, np.round(np.arange(0.2, 0.6, 0.01), 2)))
        blend = z.copy()
        for j in range(k):
            yy = y[m, j]
            if yy.sum() >= MIN_EACH and (~yy).sum() >= MIN_EACH:
                lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
                p = lr.fit(feats[m], yy).predict_proba(feats)[:, 1]
                w = m.sum() / (m.sum() + BLEND_PRIOR)
                blend[:, j] = w * p + (1 - w) * z[:, j]
        res["lr shipped"].append(f1(blend[~m] >= 0.5, y[~m]))
        res["lr tuned"].append(tuned(blend, m, grid))
        q = np.stack([
            unit(unit(dv[j]) + 0.75 * (top[m & y[:, j], j].mean(0) if (m & y[:, j]).any() else 0)
                 - 0.15 * (top[m & ~y[:, j], j].mean(0) if (m & ~y[:, j]).any() else 0))
            for j in range(k)])  # fmt: skip
        roc = np.stack([top2((sv[r] @ q.T + fac[r]) / 2) for r in rows])
        res["rocchio"].append(tuned(roc, m, np.round(np.arange(0.2, 0.7, 0.01), 2)))
    base = np.array([f.mean() for f in res["zero-shot"]])
    lrs = np.array([f.mean() for f in res["lr shipped"]])
    print(f"few-shot, {n_splits} random halves: the tune half's codes are the confirmed ones")
    for name, fs in res.items():
        t = np.array([f.mean() for f in fs])
        print(f"  {name}: test macro-F1 {t.mean():.3f} (sd {t.std():.3f}); vs zero-shot "
              f"{(t - base).mean():+.3f} (better in {np.mean(t - base > 1e-9):.0%}); vs lr shipped "
              f"{(t - lrs).mean():+.3f} (better in {np.mean(t - lrs > 1e-9):.0%}); per option "
              + ", ".join(f"{v:.2f}" for v in np.mean(fs, 0)))  # fmt: skip


def self_train(text: list[str], s: np.ndarray) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    x = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english").fit_transform(text)
    out = np.zeros_like(s)
    n = len(text)
    for j in range(s.shape[1]):
        order = np.argsort(-s[:, j])
        pos, neg = order[: int(np.ceil(POS_SHARE * n))], order[n - int(NEG_SHARE * n) :]
        rows = np.concatenate([pos, neg])
        y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(x[rows], y)
        out[:, j] = lr.predict_proba(x)[:, 1]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, default=Path("/tmp/review-bench-coding.db"))
    ap.add_argument("--splits", type=int, default=500)
    ap.add_argument("--dump-texts", type=Path)
    ap.add_argument("--few-shot", action="store_true")
    ap.add_argument("--extra-vectors", type=Path)
    a = ap.parse_args()
    d = load(a.workspace)
    if a.dump_texts:
        import json

        a.dump_texts.write_text(json.dumps(d["texts"]))
        return
    codes: tuple[str, ...] = d["codes"]  # type: ignore[assignment]
    ws = build(a.workspace)
    paths = [DATA / "sadc_challenges_gold.csv", DATA / "sadc_challenges_coder2.csv"]
    g = gold(ws, paths, "union") + gold(ws, [DATA / "sadc_challenges_heldout.csv"])
    ws.close()
    row = {w: k for k, w in enumerate(d["ids"])}  # type: ignore[arg-type]
    sel = np.array([row[int(str(x["wid"]))] for x in g])
    y = np.array([[x[c] == "1" for c in codes] for x in g])
    src = np.array([str(x["source"]) for x in g])
    if a.few_shot:
        few_shot(d, sel, y, a.splits)
        return
    sc = scorers(d)
    if a.extra_vectors:
        sc["w wordllama"] = second_model(d, np.load(a.extra_vectors))
        sc["wf fused"] = (pct(sc["current (mix top-2)"]) + pct(sc["w wordllama"])) / 2
    kw_any = np.asarray(d["kw"])[sel] > 0
    zeros, ok = np.zeros(y.shape), np.ones(y.shape, dtype=bool)
    rs = {name: Rule(v[sel], zeros, ok) for name, v in sc.items()}
    rs["g kw-gate"] = Rule(sc["current (mix top-2)"][sel], zeros, kw_any)
    print(f"{len(g)} works, {len(d['ids'])} in the workspace (unlabelled, for pct/PRF/self-train)")  # type: ignore[arg-type]
    u = src == "undp"
    print("AUC per option, all 117 / UNDP pages:")
    for name, r in rs.items():
        sc_ = np.where(r.allowed, r.score, -np.inf)
        print(f"  {name}: " + "; ".join(
            f"{c} {auc(sc_[:, j], y[:, j]):.2f} / {auc(sc_[u, j], y[u, j]):.2f}"
            for j, c in enumerate(codes)))  # fmt: skip
    tonly = np.asarray(d["tonly"])[sel]
    report(codes, rs, y, src, tonly, a.splits)


if __name__ == "__main__":
    main()
