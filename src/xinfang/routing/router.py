"""Routing a matter to departments: keyword evidence + category probabilities + location (属地管理).

score(county department) = keyword_weight · w/(w + saturation) + category_weight · Σ_c p(c)·prior(c, dept)
score(township government) = township_weight when the matter is located in that township, halved when a county
department is responsible by the list (its matched keywords weigh ≥ county_override_min_keyword_weight).
Scores are in 0..1 and serve as confidences; every department in the top 3 carries human-readable Chinese
reasons
and the structured evidence behind them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from xinfang.routing.departments import Department
from xinfang.routing.rules import ResponsibilityRules
from xinfang.text.gazetteer import Location
from xinfang.text.scan import candidate_starts, prefix_keys

TOP_N = 3


@dataclass(slots=True)
class Candidate:
    code: str
    score: float = 0.0
    keywords: list[dict[str, Any]] = field(default_factory=list)
    keyword_weight: float = 0.0
    category: dict[str, float] = field(default_factory=dict)
    location_rule: str | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class KeywordMatcher:
    """All library terms with their owners; `match` returns (term, first position, count) for present terms.

    Terms of two or more characters are indexed by their first two characters; numpy finds the positions
    where such a pair occurs (text/scan.py) and only the terms starting there are checked. Results keep the
    library's term order.
    """

    owners: dict[str, list[tuple[str, float, int]]]
    _by_prefix: dict[str, list[str]] = field(default_factory=dict)
    _short: tuple[str, ...] = ()
    _order: dict[str, int] = field(default_factory=dict)
    _keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def from_rules(cls, rules: ResponsibilityRules) -> KeywordMatcher:
        owners = rules.keyword_owners()
        by_prefix: dict[str, list[str]] = {}
        for term in owners:
            if len(term) >= 2:
                by_prefix.setdefault(term[:2], []).append(term)
        return cls(
            owners,
            by_prefix,
            tuple(t for t in owners if 0 < len(t) < 2),
            {t: i for i, t in enumerate(owners)},
            prefix_keys(by_prefix),
        )

    def match(self, text: str) -> list[tuple[str, int, int]]:
        present: set[str] = {t for t in self._short if t in text}
        by_prefix = self._by_prefix
        for i in candidate_starts(text, self._keys):
            for term in by_prefix[text[i : i + 2]]:
                if term not in present and text.startswith(term, i):
                    present.add(term)
        return [(t, text.find(t), text.count(t)) for t in sorted(present, key=self._order.__getitem__)]


class Router:
    """Stateless apart from its (validated) rules; safe to share between threads."""

    def __init__(self, rules: ResponsibilityRules, departments: Mapping[str, Department]) -> None:
        self.rules = rules
        self.departments = dict(departments)
        self.matcher = KeywordMatcher.from_rules(rules)

    def _keyword_candidates(self, text: str) -> dict[str, Candidate]:
        cands: dict[str, Candidate] = {}
        for term, pos, count in self.matcher.match(text):
            owners = self.matcher.owners[term]
            best = max(owners, key=lambda o: (o[1], o[2]))  # highest weight, then priority (validated unique)
            cand = cands.setdefault(best[0], Candidate(best[0]))
            cand.keywords.append({"term": term, "weight": best[1], "count": count, "start": pos})
            cand.keyword_weight += best[1]
        return cands

    def _add_category(self, cands: dict[str, Candidate], probabilities: Mapping[str, float]) -> None:
        for label, p in probabilities.items():
            for code, prior in self.rules.category_priors.get(label, {}).items():
                if p * prior >= 0.01:
                    cand = cands.setdefault(code, Candidate(code))
                    cand.category[label] = round(p * prior, 4)

    def _score(self, cand: Candidate) -> None:
        s = self.rules.settings
        kw = (
            cand.keyword_weight / (cand.keyword_weight + s.keyword_saturation) if cand.keyword_weight else 0.0
        )
        cat = sum(cand.category.values())
        cand.score = s.keyword_weight * kw + s.category_weight * cat
        if cand.keywords:
            terms = "、".join(f"{k['term']}({k['weight']:g})" for k in cand.keywords)
            cand.reasons.append(f"职责清单关键词匹配:{terms}")
        for label, value in cand.category.items():
            cand.reasons.append(f"内容分类“{label}”与该部门职责相关(贡献 {value:.2f})")

    def _apply_location(self, cands: dict[str, Candidate], location: Location) -> None:
        s = self.rules.settings
        if not location.township_code:
            return
        responsible = [c for c in cands.values() if c.keyword_weight >= s.county_override_min_keyword_weight]
        town = cands.setdefault(location.township_code, Candidate(location.township_code))
        place = location.township_name or location.township_code
        if location.village_name:
            place += location.village_name
        if responsible:
            names = "、".join(self._name(c.code) for c in responsible)
            town.score = s.township_weight / 2
            town.location_rule = "county_department_responsible"
            town.reasons.append(f"事发地在{place},但职责清单明确由{names}负责,乡镇政府协助")
        else:
            town.score = s.township_weight
            town.location_rule = "township_territorial"
            town.reasons.append(f"属地管理:事发地在{place},由{self._name(location.township_code)}属地办理")

    def _name(self, code: str) -> str:
        dept = self.departments.get(code)
        return dept.name if dept else code

    def route(
        self, text: str, *, probabilities: Mapping[str, float], location: Location | None = None
    ) -> list[dict[str, Any]]:
        """Top departments (at most 3) by confidence, each with code, name, confidence, reasons and detail."""
        cands = self._keyword_candidates(text)
        self._add_category(cands, probabilities)
        for cand in cands.values():
            self._score(cand)
        if location is not None:
            self._apply_location(cands, location)
        ranked = sorted(
            (c for c in cands.values() if c.score > 0),
            key=lambda c: (-c.score, -self._priority(c.code), c.code),
        )[:TOP_N]
        if not ranked:
            fallback = Candidate(self.rules.settings.fallback_department, score=0.2)
            fallback.reasons.append("未匹配到职责清单关键词,由信访部门人工甄别")
            ranked = [fallback]
        return [self._to_dict(c) for c in ranked]

    def _priority(self, code: str) -> int:
        rule = self.rules.departments.get(code)
        return rule.priority if rule else 0

    def _to_dict(self, cand: Candidate) -> dict[str, Any]:
        return {
            "code": cand.code,
            "name": self._name(cand.code),
            "confidence": round(min(max(cand.score, 0.0), 1.0), 4),
            "reasons": cand.reasons,
            "detail": {
                "keywords": [{k: v for k, v in kw.items() if k != "start"} for kw in cand.keywords],
                "keyword_weight": round(cand.keyword_weight, 3),
                "category": cand.category,
                "location_rule": cand.location_rule,
            },
        }

    def auto_dispatch(self, departments: list[dict[str, Any]]) -> bool:
        """True when the top department is confident enough and clearly ahead of the second."""
        s = self.rules.settings
        if not departments:
            return False
        top = departments[0]["confidence"]
        second = departments[1]["confidence"] if len(departments) > 1 else 0.0
        return bool(top >= s.auto_dispatch_threshold and top - second >= s.auto_dispatch_min_margin)
