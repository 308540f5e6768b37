"""Keyword suggestions for the library: frequent recent terms that the library does not cover yet.

Pure function: the database side passes recent texts in and stores the approvals. Output carries counts only,
never text, so it can be logged and shown to any administrator.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

from xinfang.routing.model import CategoryModel
from xinfang.routing.rules import ResponsibilityRules
from xinfang.text.normalize import normalise
from xinfang.text.segment import BASE_STOPWORDS, cut, filter_tokens

_MIN_TERM_CHARS = 2


def _terms(text: str, stopwords: frozenset[str]) -> set[str]:
    tokens = [t for t in filter_tokens(cut(normalise(text).text), stopwords) if not t.isdigit()]
    terms = {t for t in tokens if len(t) >= _MIN_TERM_CHARS}
    terms.update(a + b for a, b in pairwise(tokens) if len(a) + len(b) <= 6)
    return terms


def _covered(term: str, library: set[str]) -> bool:
    return any(term in kw or kw in term for kw in library)


def suggest_keywords(
    texts: Iterable[str],
    rules: ResponsibilityRules,
    *,
    background_df: Mapping[str, float] | None = None,
    min_df: int = 3,
    top: int = 30,
    stopwords: frozenset[str] = BASE_STOPWORDS,
) -> list[dict[str, Any]]:
    """Terms (rjieba tokens and adjacent-token pairs) frequent in `texts` and missing from the library.

    `background_df` maps a term to its document frequency (0..1) in a background corpus (e.g. the training
    data);
    lift = recent df / background df (smoothed). Without a background, terms are ranked by df alone.
    Each suggestion: {"term", "df", "doc_count", "lift", "score"} — counts only, no text.
    """
    library = set(rules.keyword_owners())
    df: Counter[str] = Counter()
    n_docs = 0
    for text in texts:
        n_docs += 1
        df.update(_terms(text, stopwords))
    if n_docs == 0:
        return []
    suggestions: list[dict[str, Any]] = []
    for term, count in df.items():
        if count < min_df or _covered(term, library):
            continue
        recent = count / n_docs
        background = (background_df or {}).get(term, 0.0)
        lift = (recent + 1e-3) / (background + 1e-3) if background_df is not None else 1.0
        score = recent * (math.log(lift) + 1.0 if lift > 1 else lift)
        suggestions.append(
            {
                "term": term,
                "df": round(recent, 4),
                "doc_count": count,
                "lift": round(lift, 2),
                "score": round(score, 5),
            }
        )
    # Ties go to the longer (more specific) term.
    suggestions.sort(key=lambda s: (-s["score"], -s["doc_count"], -len(s["term"]), s["term"]))
    return _drop_nested(suggestions)[:top]


def _drop_nested(suggestions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop a term that contains, or is contained in, a better-ranked one: ten variants of one word help nobody."""
    kept: list[dict[str, Any]] = []
    seen: set[str] = set()
    for s in suggestions:
        if any(s["term"] in k or k in s["term"] for k in seen):
            continue
        kept.append(s)
        seen.add(s["term"])
    return kept


def background_from_model(model: CategoryModel) -> dict[str, float]:
    """Document frequencies (0..1) of the model's word features, recovered from idf = ln((1+n)/(1+df)) + 1.

    Why: the training corpus itself is not shipped, but its idf is, and that is all lift needs.
    """
    out: dict[str, float] = {}
    for words, j in model.word_features():
        out["".join(words)] = min(1.0, math.exp(1.0 - float(model.idf_[j])))
    return out
