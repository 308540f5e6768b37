"""The responsibility list and keyword library (职责清单 + 关键词库): parsing and validation.

Why strict validation: the file is edited by hand and stored in the database by the admin UI; a silent typo
(an
unknown department code, a keyword claimed by two departments with nothing to break the tie) would route
petitions to the wrong office. Every error names the department(s) and the keyword concerned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xinfang.errors import InvalidInput

RULES_VERSION = 1


class RuleError(InvalidInput):
    code = "routing.rules_invalid"


@dataclass(frozen=True, slots=True)
class DepartmentRule:
    code: str
    keywords: dict[str, float]
    priority: int = 0


@dataclass(frozen=True, slots=True)
class ScoringSettings:
    """Weights of the three kinds of evidence and the auto-dispatch gate (all configurable in the YAML)."""

    keyword_weight: float = 0.5
    keyword_saturation: float = 2.0
    category_weight: float = 0.45
    township_weight: float = 0.55
    county_override_min_keyword_weight: float = 3.0
    auto_dispatch_threshold: float = 0.55
    auto_dispatch_min_margin: float = 0.1
    fallback_department: str = "xfj"


@dataclass(frozen=True, slots=True)
class ResponsibilityRules:
    departments: dict[str, DepartmentRule]
    category_priors: dict[str, dict[str, float]]
    settings: ScoringSettings = field(default_factory=ScoringSettings)
    version: int = RULES_VERSION

    def keyword_owners(self) -> dict[str, list[tuple[str, float, int]]]:
        """term → [(department code, weight, priority)], for matching and for suggestions."""
        owners: dict[str, list[tuple[str, float, int]]] = {}
        for rule in self.departments.values():
            for term, weight in rule.keywords.items():
                owners.setdefault(term, []).append((rule.code, weight, rule.priority))
        return owners

    def to_dict(self) -> dict[str, Any]:
        """The same structure the YAML has, for storing an edited copy in the database."""
        s = self.settings
        return {
            "version": self.version,
            "settings": {k: getattr(s, k) for k in ScoringSettings.__dataclass_fields__},
            "category_priors": self.category_priors,
            "departments": [
                {
                    "code": r.code,
                    "priority": r.priority,
                    "keywords": [{"term": t, "weight": w} for t, w in r.keywords.items()],
                }
                for r in self.departments.values()
            ],
        }


def _number(value: Any, where: str, *, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleError(f"{where}: 应为数字,实际为 {value!r}", where=where)
    if value < low or (high is not None and value > high):
        raise RuleError(
            f"{where}: 数值 {value} 超出范围 [{low}, {high if high is not None else '∞'}]", where=where
        )
    return float(value)


def _parse_keywords(items: Any, code: str) -> dict[str, float]:
    if not isinstance(items, list) or not items:
        raise RuleError(f"部门 {code}: 关键词列表为空(空规则)", department=code)
    keywords: dict[str, float] = {}
    for item in items:
        term, weight = (item, 1.0) if isinstance(item, str) else (item.get("term"), item.get("weight", 1.0))
        term = str(term or "").strip()
        if not term:
            raise RuleError(f"部门 {code}: 存在空关键词(空规则)", department=code)
        if term in keywords:
            raise RuleError(f"部门 {code}: 关键词“{term}”重复", department=code, term=term)
        keywords[term] = _number(weight, f"部门 {code} 关键词“{term}”的权重", low=0.01)
    return keywords


def _check_conflicts(rules: dict[str, DepartmentRule]) -> None:
    """Same term, same weight, same priority in two departments: nothing decides between them."""
    seen: dict[str, tuple[str, float, int]] = {}
    for rule in rules.values():
        for term, weight in rule.keywords.items():
            other = seen.get(term)
            if other and other[1] == weight and other[2] == rule.priority:
                raise RuleError(
                    f"关键词“{term}”同时分配给部门 {other[0]} 和 {rule.code},权重相同({weight})且无优先级区分;"
                    "请调整权重或设置 priority",
                    code="routing.rules_conflict",
                    term=term,
                    departments=[other[0], rule.code],
                )
            if other is None or (weight, rule.priority) > (other[1], other[2]):
                seen[term] = (rule.code, weight, rule.priority)


def parse_rules(data: Any, *, department_codes: set[str]) -> ResponsibilityRules:
    """Validate a rules mapping (from YAML or the database) against the known department codes."""
    if not isinstance(data, dict):
        raise RuleError("职责清单应为映射(YAML 字典)")
    if data.get("version", RULES_VERSION) != RULES_VERSION:
        raise RuleError(f"不支持的职责清单版本: {data.get('version')!r}")
    departments: dict[str, DepartmentRule] = {}
    for item in data.get("departments") or []:
        code = str(item.get("code", "")).strip()
        if code not in department_codes:
            raise RuleError(
                f"未知部门代码: {code!r}(不在 departments.yaml 中)",
                code="routing.unknown_department",
                department=code,
            )
        if code in departments:
            raise RuleError(f"部门 {code} 在职责清单中出现两次", department=code)
        priority = int(_number(item.get("priority", 0), f"部门 {code} 的 priority", low=-1000))
        departments[code] = DepartmentRule(code, _parse_keywords(item.get("keywords"), code), priority)
    if not departments:
        raise RuleError("职责清单中没有任何部门规则(空规则)")
    _check_conflicts(departments)
    priors: dict[str, dict[str, float]] = {}
    for label, mapping in (data.get("category_priors") or {}).items():
        if not isinstance(mapping, dict) or not mapping:
            raise RuleError(f"分类“{label}”的部门先验为空(空规则)", category=label)
        for code, value in mapping.items():
            if code not in department_codes:
                raise RuleError(
                    f"分类“{label}”引用了未知部门代码: {code!r}",
                    code="routing.unknown_department",
                    department=code,
                )
            _number(value, f"分类“{label}”→{code} 的先验", high=1.0)
        priors[str(label)] = {str(c): float(v) for c, v in mapping.items()}
    settings = _parse_settings(data.get("settings") or {}, department_codes)
    return ResponsibilityRules(departments=departments, category_priors=priors, settings=settings)


def _parse_settings(raw: dict[str, Any], department_codes: set[str]) -> ScoringSettings:
    known = ScoringSettings.__dataclass_fields__
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise RuleError(f"settings 中有未知项: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "fallback_department":
            if value not in department_codes:
                raise RuleError(
                    f"settings.fallback_department: 未知部门代码 {value!r}",
                    code="routing.unknown_department",
                    department=value,
                )
            values[key] = value
        else:
            values[key] = _number(
                value, f"settings.{key}", high=None if "saturation" in key or "min_keyword" in key else 1.0
            )
    return ScoringSettings(**values)


def load_rules(path: Path | str, *, department_codes: set[str]) -> ResponsibilityRules:
    """Read and validate the YAML file; errors name the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleError(f"{path.name}: YAML 格式错误: {exc}") from exc
    try:
        return parse_rules(data, department_codes=department_codes)
    except RuleError as exc:
        raise RuleError(f"{path.name}: {exc.message}", code=exc.code, **exc.params) from exc
