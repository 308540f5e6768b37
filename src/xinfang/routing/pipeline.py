"""The one entry point of intelligent dispatch, shared by intake, the CLI and the benchmark.

    pipeline = DispatchPipeline.load_default()          # or from_paths(...), or with_rules(rules_from_db)
    result = pipeline.analyse(title, body, reference_date=date(2024, 6, 1))

`analyse` returns a JSON-serialisable dict whose shape is stable (RESULT_SCHEMA_VERSION); the lead stores
it and
the web UI shows it. Spans index `title + "\\n" + body` (see `text_layout`). ID numbers and phones are masked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from xinfang.routing.departments import Department, load_departments, with_townships
from xinfang.routing.model import CategoryModel
from xinfang.routing.router import Router
from xinfang.routing.rules import ResponsibilityRules, load_rules
from xinfang.text.analysis import TextAnalysis, analyse_text, source_text
from xinfang.text.gazetteer import Gazetteer, data_path
from xinfang.text.normalize import normalise_text
from xinfang.text.segment import BASE_STOPWORDS, CLASSIFY_MAX_CHARS, model_tokens

__all__ = ["CLASSIFY_MAX_CHARS", "DispatchPipeline", "default_paths"]

RESULT_SCHEMA_VERSION = 1
# Signals after which a person, not the machine, must decide where the matter goes.
_BLOCKING_RISKS = {"self_harm", "violence", "group", "escalation"}


def default_paths() -> dict[str, Path]:
    return {
        "model_dir": data_path("models", "category"),
        "rules": data_path("routing", "responsibilities.yaml"),
        "departments": data_path("departments.yaml"),
        "county": data_path("geo", "demo_county.json"),
        "national": data_path("geo", "divisions_cn.tsv"),
    }


@dataclass
class DispatchPipeline:
    model: CategoryModel
    router: Router
    gazetteer: Gazetteer
    model_version: str

    @classmethod
    def from_paths(
        cls,
        *,
        model_dir: Path | str,
        rules: Path | str | ResponsibilityRules,
        departments: Path | str,
        county: Path | str,
        national: Path | str | None = None,
    ) -> DispatchPipeline:
        """Build from files; `rules` may be an in-memory (database) rules object instead of a YAML path."""
        gazetteer = Gazetteer.from_file(county, national)
        depts = with_townships(load_departments(departments), gazetteer)
        if not isinstance(rules, ResponsibilityRules):
            rules = load_rules(rules, department_codes=set(depts))
        model = CategoryModel.load(model_dir)
        return cls(
            model=model, router=Router(rules, depts), gazetteer=gazetteer, model_version=model.version()
        )

    @classmethod
    def load_default(cls, *, rules: ResponsibilityRules | None = None) -> DispatchPipeline:
        """The shipped model, rules, departments and demo county (≈0.5 s; call once and keep the object)."""
        paths = default_paths()
        return cls.from_paths(
            model_dir=paths["model_dir"],
            rules=rules or paths["rules"],
            departments=paths["departments"],
            county=paths["county"],
            national=paths["national"],
        )

    def with_rules(self, rules: ResponsibilityRules) -> DispatchPipeline:
        """The same pipeline with other (e.g. database-stored, already validated) rules."""
        return DispatchPipeline(
            self.model, Router(rules, self.router.departments), self.gazetteer, self.model_version
        )

    @property
    def departments(self) -> dict[str, Department]:
        return self.router.departments

    def _tokens(self, text: str) -> list[str]:
        return model_tokens(text, self.model.stopwords_ or BASE_STOPWORDS)

    @staticmethod
    def _category(probabilities: dict[str, float]) -> dict[str, Any]:
        label = max(probabilities, key=lambda k: probabilities[k])
        return {"label": label, "probabilities": {k: round(v, 4) for k, v in probabilities.items()}}

    def classify(self, text: str) -> dict[str, Any]:
        """Category label and calibrated probabilities of raw text."""
        return self._category(self.model.predict_proba_one(self._tokens(text)))

    def route(self, title: str, body: str) -> dict[str, Any]:
        """The fast path: category + departments + auto_dispatch, without the other extractors."""
        text = normalise_text(source_text(title, body))
        category = self.classify(text)
        location = self.gazetteer.resolve(self.gazetteer.find(text))
        departments = self.router.route(text, probabilities=category["probabilities"], location=location)
        return {
            "category": category,
            "departments": departments,
            "auto_dispatch": self.router.auto_dispatch(departments),
            "model_version": self.model_version,
        }

    def analyse(self, title: str, body: str, *, reference_date: date | None = None) -> dict[str, Any]:
        """Everything the dispatch screen needs, as a JSON-serialisable dict (see module docstring)."""
        analysis = analyse_text(title, body, gazetteer=self.gazetteer, reference_date=reference_date)
        return self._result(title, body, analysis, self.classify(analysis.normalised.text), reference_date)

    def analyse_many(
        self, items: Iterable[tuple[str, str]], *, reference_date: date | None = None
    ) -> list[dict[str, Any]]:
        """`analyse` for many petitions; the classifier scores the whole batch in one matrix product."""
        pairs = list(items)
        analyses = [
            analyse_text(t, b, gazetteer=self.gazetteer, reference_date=reference_date) for t, b in pairs
        ]
        probabilities = self.model.predict_proba_many([self._tokens(a.normalised.text) for a in analyses])
        return [
            self._result(t, b, a, self._category(p), reference_date)
            for (t, b), a, p in zip(pairs, analyses, probabilities, strict=True)
        ]

    def _result(
        self,
        title: str,
        body: str,
        analysis: TextAnalysis,
        category: dict[str, Any],
        reference_date: date | None,
    ) -> dict[str, Any]:
        departments = self.router.route(
            analysis.normalised.text, probabilities=category["probabilities"], location=analysis.location
        )
        auto, auto_reason = self._auto_dispatch(departments, analysis.risks, analysis.legal_channel)
        return {
            "schema_version": RESULT_SCHEMA_VERSION,
            "model_version": self.model_version,
            "category": category,
            "departments": departments,
            "auto_dispatch": auto,
            "auto_dispatch_reason": auto_reason,
            **analysis.to_dict(),
            "text_layout": _layout(title, body),
            "reference_date": reference_date.isoformat() if reference_date else None,
        }

    def _auto_dispatch(
        self, departments: list[dict[str, Any]], risks: list[dict[str, Any]], legal: dict[str, Any] | None
    ) -> tuple[bool, str]:
        blocking = [r["label"] for r in risks if r["type"] in _BLOCKING_RISKS]
        if blocking:
            return False, f"存在风险信号({'、'.join(blocking)}),需人工研判"
        if legal is not None:
            return False, f"涉及{legal['label']},需按诉访分离人工甄别"
        if not self.router.auto_dispatch(departments):
            s = self.router.rules.settings
            return (
                False,
                f"置信度不足(阈值 {s.auto_dispatch_threshold:g},领先幅度 {s.auto_dispatch_min_margin:g})",
            )
        return True, f"置信度达到阈值,自动分派至{departments[0]['name']}"


def _layout(title: str, body: str) -> dict[str, list[int]]:
    if title and body:
        return {"title": [0, len(title)], "body": [len(title) + 1, len(title) + 1 + len(body)]}
    return (
        {"title": [0, len(title)], "body": [0, len(body)]}
        if not body
        else {"title": [0, 0], "body": [0, len(body)]}
    )
