"""Word segmentation (rjieba) and the token filter shared by training and prediction.

Why one function for both: the labelled training file is already tokenised by jieba with stop words and
punctuation removed, so raw text at run time must be cut and filtered the same way or the classifier sees
different features from the ones it learned (train/serve skew).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import rjieba

from xinfang.text.normalize import to_half_width_simplified

# Function words that the training file's stop-word removal dropped (checked: none of them occurs in the
# tokenised file); the model artifact carries the full list it derives from data (training.derive_stopwords).
BASE_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "我",
        "在",
        "和",
        "也",
        "就",
        "都",
        "而",
        "及",
        "与",
        "着",
        "或",
        "一",
        "之",
        "把",
        "被",
        "让",
        "给",
        "对",
        "从",
        "向",
        "于",
        "为",
        "以",
        "将",
        "因",
        "由",
        "等",
        "这",
        "那",
        "这个",
        "那个",
        "我们",
        "你们",
        "他们",
        "她们",
        "它",
        "他",
        "她",
        "你",
        "您",
        "啊",
        "吧",
        "呢",
        "吗",
        "嘛",
        "呀",
        "哦",
        "哈",
        "么",
        "得",
        "地",
        "所",
        "又",
        "还",
        "但",
        "并",
        "且",
        "如",
        "若",
        "没有",
        "没",
        "不",
        "很",
        "更",
        "其",
        "该",
        "此",
        "各",
        "每",
        "有",
        "要",
        "会",
        "能",
        "可以",
        "可",
        "去",
        "来",
        "上",
        "个",
        "什么",
        "怎么",
        "为什么",
        "如何",
        "多少",
        "哪",
        "哪里",
        "谁",
    ]
)
# The classifier reads the first 1,000 characters: the category is stated early, and the cap bounds latency.
# 1,000 characters give ≈340 tokens after stop-word removal, more than the model's 300-token cap, so the cap
# changes almost no prediction (the raw held-out figures in model.json are measured through it).
CLASSIFY_MAX_CHARS = 1000
_KEEP = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_SINGLE_LATIN = re.compile(r"^[A-Za-z]$")


@lru_cache(maxsize=1)
def _jieba() -> rjieba.Jieba:
    """A private instance, so that words added for routing never change the global dictionary."""
    return rjieba.Jieba()


def cut(text: str) -> list[str]:
    """rjieba tokens of half-width simplified text (HMM on, as jieba's default that made the training file)."""
    return list(_jieba().cut(to_half_width_simplified(text), True))


# token -> kept by the punctuation / lone-letter rule; tokens repeat, so the regexes run once per distinct token
_KEEP_CACHE: dict[str, bool] = {}
_KEEP_CACHE_MAX = 200_000


def _keepable(token: str) -> bool:
    keep = bool(_KEEP.search(token)) and not _SINGLE_LATIN.match(token)
    if len(_KEEP_CACHE) < _KEEP_CACHE_MAX:
        _KEEP_CACHE[token] = keep
    return keep


def filter_tokens(tokens: Iterable[str], stopwords: frozenset[str] | set[str] = BASE_STOPWORDS) -> list[str]:
    """Drop punctuation, whitespace, stop words and lone Latin letters (the training file drops the "A" of "A市")."""
    cached = _KEEP_CACHE.get
    out = []
    for t in tokens:
        keep = cached(t)
        if keep is None:
            keep = _keepable(t)
        if keep and t not in stopwords:
            out.append(t)
    return out


def model_tokens(
    text: str, stopwords: frozenset[str] | set[str] = BASE_STOPWORDS, *, max_chars: int | None = None
) -> list[str]:
    """Tokens of raw text as the classifier expects them: the first `max_chars` characters (default
    CLASSIFY_MAX_CHARS) cut and filtered. Training on raw rows, evaluation and the run-time pipeline all call
    this, on normalised text, so they see the same tokens."""
    return filter_tokens(cut(text[: max_chars or CLASSIFY_MAX_CHARS]), stopwords)
