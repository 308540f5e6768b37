"""A small synthetic labelled corpus: enough signal for a classifier to learn, generated in code."""

from __future__ import annotations

import random

TOPICS = {
    "劳动和社会保障": ["拖欠工资", "农民工", "讨薪", "社保", "养老保险", "包工头", "工伤", "劳动合同"],
    "环境保护": ["污染", "排放", "废气", "噪音", "异味", "污水", "粉尘", "垃圾焚烧"],
    "教育文体": ["学校", "学生", "老师", "入学", "补课", "幼儿园", "学位", "校车"],
}
FILLER = [
    "我们",
    "村里",
    "多次",
    "反映",
    "问题",
    "一直",
    "没有",
    "处理",
    "希望",
    "尽快",
    "解决",
    "相关",
    "部门",
]


def make_corpus(n_per_class: int = 30, seed: int = 3) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for label, words in TOPICS.items():
        for _ in range(n_per_class):
            parts = rng.sample(words, 3) + rng.sample(FILLER, 5)
            rng.shuffle(parts)
            rows.append(("".join(parts) + "。", label))
    return rows
