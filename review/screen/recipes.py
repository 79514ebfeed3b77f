"""The prioritisation recipes by name: what ``review simulate --model`` and the screening app rank with.

A recipe fixes the text a model reads, the TF-IDF preset, the scorer, the retraining schedule, the
features and how an ensemble's models mix; scorers.py turns one into a model input
(``recipe_features``) and scores (``score``), simulate.py replays it. Standard library only, so
the CLI lists the names without importing numpy or scikit-learn (``review --help`` stays fast);
priority.py re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ScreenError

# The stopping rules `review simulate --stop` can apply (stoprules.py computes them; it imports
# numpy, so the names live here for the CLI).
STOP_RULES = ("cmh", "ranked", "knee", "target", "safe", "heuristic")

__all__ = [
    "DEFAULT_RECIPE",
    "FEATURE_CHOICES",
    "FEATURE_SETS",
    "check_features",
    "MEASURED",
    "RECIPES",
    "STOPPED_EARLY",
    "STOP_RULES",
    "Recipe",
    "model_help",
    "recipe",
    "text_of",
    "u4_text",
]

FEATURE_SETS = ("tfidf", "embedding", "both")  # one model's input (scorers.combine_features)
FEATURE_CHOICES = (*FEATURE_SETS, "ensemble")  # "ensemble": a TF-IDF and an embedding model


def check_features(name: str) -> str:
    """``name`` if it is a feature choice, else the ScreenError every caller raises."""
    if name not in FEATURE_CHOICES:
        raise ScreenError(
            f"unknown features {name!r}; expected one of {', '.join(FEATURE_CHOICES)}"
        )
    return name


def text_of(title: str | None, abstract: str | None) -> str:
    """The text our TF-IDF reads: the title twice (titles carry the topic), then the abstract."""
    return f"{title or ''} {title or ''} {abstract or ''}".strip()


def u4_text(title: str | None, abstract: str | None) -> str:
    """The text ASReview's ELAS u4 reads: title and abstract joined by one space (its TextMerger:
    ``" ".join`` of the two columns with missing values as empty strings, nothing stripped)."""
    return f"{title or ''} {abstract or ''}"


@dataclass(frozen=True)
class Recipe:
    """One way to prioritise: the text read, the TF-IDF preset, the scorer and the retraining
    schedule (``every`` record, or ``fast``/``batch`` as simulate.py describes)."""

    name: str
    text: Callable[[str | None, str | None], str]
    tfidf: str  # a scorers.build_features preset; "a+b": one model per TF-IDF view
    scorer: str  # a scorers.score model; "a+b": one model each on the same features
    schedule: str
    features: str = "tfidf"  # tfidf | embedding | both | ensemble (TF-IDF and embedding models)
    mix: str = "rank"  # how an ensemble's models' scores combine (``mix_scores``)
    weights: tuple[float, ...] = ()  # each ensemble model's weight (default equal)
    embed_weight: float | None = None  # ``both``: the embeddings' scale beside unit TF-IDF rows


# Names: "t2-" = u4's TF-IDF SVM with the title twice; "-emb*" = with the same SVM on MiniLM
# embeddings, mixed by rank sum ("emb", "emb3": TF-IDF weighted 2:1), z-scores ("embz") or
# reciprocal rank fusion ("embrrf"); "sw" = stop words + min_df 2, "sw1" = stop words only;
# "views" = both TF-IDFs; "pn" = pseudo-negatives; "nb" = with naive Bayes. Which were measured:
# ``MEASURED``, ``STOPPED_EARLY`` below.
RECIPES: dict[str, Recipe] = {
    "u4": Recipe("u4", u4_text, "u4", "u4", "every"),
    "u4-fast": Recipe("u4-fast", u4_text, "u4", "u4", "fast"),
    "ensemble": Recipe("ensemble", u4_text, "u4", "u4", "fast", "ensemble"),
    "both": Recipe("both", u4_text, "u4", "u4", "fast", "both"),
    "u4-pn": Recipe("u4-pn", u4_text, "u4", "u4-pn", "fast"),
    "u4-t2": Recipe("u4-t2", text_of, "u4", "u4", "fast"),
    "u4-pn10": Recipe("u4-pn10", u4_text, "u4", "u4-pn10", "fast"),
    "t2-sw": Recipe("t2-sw", text_of, "default", "u4", "fast"),
    "t2-views": Recipe("t2-views", text_of, "u4+default", "u4", "fast"),
    "t2-emb": Recipe("t2-emb", text_of, "u4", "u4", "fast", "ensemble"),
    "t2-embz": Recipe("t2-embz", text_of, "u4", "u4", "fast", "ensemble", "z"),
    "t2-emb3": Recipe("t2-emb3", text_of, "u4", "u4", "fast", "ensemble", "rank", (2.0, 1.0)),
    "t2-embrrf": Recipe("t2-embrrf", text_of, "u4", "u4", "fast", "ensemble", "rrf"),
    "sw-embrrf": Recipe("sw-embrrf", text_of, "default", "u4", "fast", "ensemble", "rrf"),
    "views-embrrf": Recipe("views-embrrf", text_of, "u4+default", "u4", "fast", "ensemble", "rrf"),
    "t2-both": Recipe("t2-both", text_of, "u4", "u4", "fast", "both"),
    "t2-sw1": Recipe("t2-sw1", text_of, "u4-sw", "u4", "fast"),
    "t2-nb": Recipe("t2-nb", text_of, "u4", "u4+nb", "fast"),
    "classic": Recipe("classic", text_of, "default", "svm-pos", "batch"),
}
DEFAULT_RECIPE = "t2-embrrf"
# Run in full by benchmarks/screening.py beside the real ASReview (tables in benchmarks/README.md).
MEASURED = (
    "u4",
    "u4-fast",
    "u4-t2",
    "t2-sw",
    "t2-views",
    "t2-emb",
    "t2-embz",
    "t2-emb3",
    "t2-embrrf",
    "sw-embrrf",
    "views-embrrf",
    "t2-both",
    "t2-sw1",
)
# Stopped early there, with the reason in benchmarks/README.md; the rest (ensemble, both,
# u4-pn10, classic) were never measured there.
STOPPED_EARLY = ("u4-pn", "t2-nb")


def model_help() -> str:
    """``review simulate --model``'s help: which recipes were measured, which were not."""
    unmeasured = [n for n in RECIPES if n not in (*MEASURED, *STOPPED_EARLY)]
    return (
        "Prioritisation recipe (review/screen/recipes.py): u4 = ASReview 3.0.8's ELAS u4 exactly"
        f" (retrained after every record); default: {DEFAULT_RECIPE}. Measured in"
        f" benchmarks/README.md: {', '.join(MEASURED)}; stopped early there:"
        f" {', '.join(STOPPED_EARLY)}; not measured there: {', '.join(unmeasured)}."
    )


def recipe(name: str | None) -> Recipe:
    """The recipe called ``name`` (None: ``DEFAULT_RECIPE``); ScreenError for an unknown name."""
    try:
        return RECIPES[name or DEFAULT_RECIPE]
    except KeyError:
        raise ScreenError(f"unknown model {name!r}; expected one of {', '.join(RECIPES)}")
