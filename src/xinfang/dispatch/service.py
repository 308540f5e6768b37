"""Dispatch use cases on the database: rules versions, the analyser intake uses, review queue, corrections, keywords.

The routing core (xinfang.routing) is pure and file-based; this module is where its inputs live in the database:
- the responsibility list + keyword library as immutable, numbered versions, one active (else the shipped YAML);
- the human corrections of the engine's suggestions, which the next `xinfang model train --db` learns from;
- the decisions on suggested keywords, so that a rejected term is not suggested again.
Services take keyword-only arguments and an explicit session, check permissions, audit, and never commit.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from xinfang.cases.enums import OrgKind, Status
from xinfang.cases.events import add_event
from xinfang.cases.models import Petition
from xinfang.cases.service import Analyser, get_petition
from xinfang.dispatch.models import KeywordDecision, RoutingCorrection, RulesVersion
from xinfang.errors import Conflict, InvalidInput
from xinfang.org.models import OrgUnit
from xinfang.routing.rules import ResponsibilityRules, RuleError, parse_rules
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, scope_petitions

if TYPE_CHECKING:
    from xinfang.routing.pipeline import DispatchPipeline

# Units a matter can be routed to; villages are places, not handling bodies.
ROUTABLE_KINDS = (OrgKind.BUREAU.value, OrgKind.DEPARTMENT.value, OrgKind.TOWNSHIP.value)
MAX_COMMENT = 500
SUGGESTIONS_SHOWN = 3
KEYWORD_TEXT_LIMIT = 5000  # most recent petitions read for keyword suggestions: bounds the request's cost


# --- the pipeline, shared per process -----------------------------------------------------------------------


def default_pipeline() -> DispatchPipeline:
    """The shipped model, rules and gazetteer (≈0.5 s): loaded once per process, read-only afterwards.
    (The deployment's own model and organisation: `engine.base_pipeline`, which `pipeline_for` builds on.)"""
    from xinfang.dispatch.engine import shipped_pipeline

    return shipped_pipeline()


class _PipelineCache:
    """Pipelines by rules-content hash. Why by content: equal rules give an equal pipeline whatever database
    (or test) the version row came from, and a new version gets a new hash, so every instance switches to it
    on its next request without any shared state besides the database."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._items: OrderedDict[str, DispatchPipeline] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: str) -> DispatchPipeline | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def get(self, key: str, build: Callable[[], DispatchPipeline]) -> DispatchPipeline:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        pipeline = build()
        with self._lock:
            self._items[key] = pipeline
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return pipeline


_pipelines = _PipelineCache()


# --- rules versions -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveRules:
    """The rules intake routes with: the active database version, or the shipped file when there is none."""

    content: dict[str, Any]
    sha256: str
    version: RulesVersion | None = None

    @property
    def source(self) -> str:
        return "database" if self.version is not None else "file"


def content_sha256(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def routable_codes(session: Session) -> set[str]:
    """Department codes the rules may name: every bureau, department and township in org_units."""
    return set(session.execute(select(OrgUnit.code).where(OrgUnit.kind.in_(ROUTABLE_KINDS))).scalars())


def read_content(content: dict[str, Any] | str) -> dict[str, Any]:
    """A rules mapping from a dict or YAML text; malformed YAML is a RuleError like any other rules error."""
    if isinstance(content, dict):
        return content
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise RuleError(f"YAML 格式错误: {exc}", code="routing.rules_yaml") from exc
    if not isinstance(data, dict):
        raise RuleError("职责清单应为映射(YAML 字典)")
    return data


def validate_rules(session: Session, content: dict[str, Any] | str) -> ResponsibilityRules:
    """Parse and validate against the organisation in the database (unknown department, empty or conflicting rule)."""
    return parse_rules(read_content(content), department_codes=routable_codes(session))


@lru_cache(maxsize=1)
def shipped_content() -> dict[str, Any]:
    """The shipped YAML, normalised to the stored shape. Its department codes are checked where the pipeline
    loads it (against departments.yaml and the gazetteer), so here they are taken as they are."""
    from xinfang.routing.pipeline import default_paths

    data = read_content(default_paths()["rules"].read_text(encoding="utf-8"))
    return parse_rules(data, department_codes=_codes_named_in(data)).to_dict()


def _codes_named_in(data: dict[str, Any]) -> set[str]:
    codes = {str(d.get("code", "")).strip() for d in data.get("departments") or []}
    codes |= {str(c) for prior in (data.get("category_priors") or {}).values() for c in prior or {}}
    fallback = (data.get("settings") or {}).get("fallback_department")
    return codes | ({fallback} if fallback else set())


def active_rules(session: Session) -> ActiveRules:
    row = session.execute(
        select(RulesVersion).where(RulesVersion.is_active).order_by(RulesVersion.number.desc()).limit(1)
    ).scalar_one_or_none()
    if row is None:
        content = shipped_content()
        return ActiveRules(content=content, sha256=content_sha256(content))
    return ActiveRules(content=row.content, sha256=row.content_sha256, version=row)


def list_rule_versions(session: Session, *, actor: Actor, limit: int = 100) -> list[RulesVersion]:
    require(actor, "routing.read")
    q = select(RulesVersion).order_by(RulesVersion.number.desc()).limit(limit)
    return list(session.execute(q).scalars())


def save_rules(
    session: Session,
    *,
    actor: Actor,
    content: dict[str, Any] | str,
    comment: str | None,
    now: datetime,
    base_number: int | None = None,
) -> RulesVersion:
    """Validate and store a new active version. `base_number`, when given, must still be the active version
    (an admin editing a stale copy gets a Conflict instead of silently overwriting a colleague's change)."""
    require(actor, "routing.manage")
    rules = validate_rules(session, content)
    current = active_rules(session).version
    if base_number is not None and (current.number if current else 0) != base_number:
        raise Conflict(
            "职责清单已被他人修改,请刷新后重试", code="routing.rules_stale", active=current and current.number
        )
    stored = rules.to_dict()
    last = session.execute(select(func.max(RulesVersion.number))).scalar_one_or_none() or 0
    session.execute(update(RulesVersion).where(RulesVersion.is_active).values(is_active=False))
    version = RulesVersion(
        number=last + 1,
        content=stored,
        content_sha256=content_sha256(stored),
        comment=(comment or "").strip()[:MAX_COMMENT] or None,
        created_at=now,
        created_by_id=actor.user_id,
        is_active=True,
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="routing.rules_save",
        at=now,
        object_type="routing_rules",
        object_id=version.number,
        details={
            "departments": len(rules.departments),
            "keywords": sum(len(r.keywords) for r in rules.departments.values()),
            "previous": current.number if current else None,
        },
    )
    return version


# --- the analyser intake uses ----------------------------------------------------------------------------------


def pipeline_for(
    session: Session, active: ActiveRules | None = None, *, model_dir: Path | None = None
) -> DispatchPipeline:
    """The active model (of `model_dir`, else packaged) and the organisation's places (engine.base_pipeline) with
    the active rules; stored rules are re-validated when first loaded."""
    from xinfang.dispatch.engine import base_pipeline

    base_key, base = base_pipeline(session, model_dir=model_dir)
    if active is None:
        # Intake asks on every petition: the hash alone finds a cached pipeline without loading the content.
        sha = session.execute(
            select(RulesVersion.content_sha256)
            .where(RulesVersion.is_active)
            .order_by(RulesVersion.number.desc())
            .limit(1)
        ).scalar_one_or_none()
        if sha is None:
            return base
        cached = _pipelines.peek(f"{base_key}|{sha}")
        if cached is not None:
            return cached
    active = active or active_rules(session)
    if active.version is None:
        return base
    content = active.content

    def build() -> DispatchPipeline:
        return base.with_rules(parse_rules(content, department_codes=routable_codes(session)))

    return _pipelines.get(f"{base_key}|{active.sha256}", build)


def analyser_for(session: Session, *, model_dir: Path | None = None) -> Analyser:
    """What intake calls: `(title, body, *, reference_date=None) -> dict`, routing with the active DB rules."""
    return pipeline_for(session, model_dir=model_dir).analyse


def try_rules(
    session: Session,
    *,
    actor: Actor,
    title: str,
    body: str,
    content: dict[str, Any] | str | None = None,
    model_dir: Path | None = None,
) -> dict[str, Any]:
    """How a text would be routed with the active rules, or with a draft (validated, never saved)."""
    require(actor, "routing.read")
    if content is None:
        active = active_rules(session)
        result = pipeline_for(session, active, model_dir=model_dir).analyse(title, body)
        return {"rules": active.version.number if active.version else None, "draft": False, **result}
    from xinfang.dispatch.engine import base_pipeline

    draft = base_pipeline(session, model_dir=model_dir)[1].with_rules(validate_rules(session, content))
    return {"rules": None, "draft": True, **draft.analyse(title, body)}


# --- review queue and corrections ------------------------------------------------------------------------------


def list_review_queue(
    session: Session, *, actor: Actor, page: int = 1, page_size: int = 20
) -> tuple[list[Petition], int]:
    """Petitions waiting for a person to choose the department, oldest first, within the actor's scope."""
    require(actor, "petition.read")
    page, page_size = max(page, 1), min(max(page_size, 1), 200)
    q = scope_petitions(select(Petition).where(Petition.status == Status.PENDING_REVIEW.value), actor)
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = session.execute(
        q.order_by(Petition.received_at, Petition.id).offset((page - 1) * page_size).limit(page_size)
    ).scalars()
    return list(rows), total


def suggestions(analysis: dict[str, Any] | None, n: int = SUGGESTIONS_SHOWN) -> list[dict[str, Any]]:
    """The engine's top departments as stored at intake: code, name, confidence and reasons."""
    return [
        {k: d.get(k) for k in ("code", "name", "confidence", "reasons")}
        for d in ((analysis or {}).get("departments") or [])[:n]
    ]


def suggested_category(analysis: dict[str, Any] | None) -> str | None:
    return ((analysis or {}).get("category") or {}).get("label")


def record_correction(
    session: Session,
    *,
    actor: Actor,
    petition: Petition,
    chosen_department: str | None = None,
    chosen_category: str | None = None,
    now: datetime,
) -> RoutingCorrection | None:
    """Keep a human choice that differs from the engine's top suggestion (else None: nothing to learn).

    A helper of use cases (forward, correct_category) that have already checked permissions and audit the
    change they make; the correction row is training material, not a change of its own.
    """
    top = suggestions(petition.analysis, 1)
    top_department = top[0]["code"] if top else None
    top_category = suggested_category(petition.analysis)
    differs = (chosen_department is not None and chosen_department != top_department) or (
        chosen_category is not None and chosen_category != top_category
    )
    if not differs:
        return None
    row = RoutingCorrection(
        petition_id=petition.id,
        suggested_department=top_department,
        chosen_department=chosen_department,
        suggested_category=top_category,
        chosen_category=chosen_category,
        actor_id=actor.user_id,
        at=now,
    )
    session.add(row)
    return row


def known_categories(session: Session, petition: Petition) -> set[str]:
    """Labels the model knows (from the stored probabilities) plus those the active rules give priors for."""
    probabilities = ((petition.analysis or {}).get("category") or {}).get("probabilities") or {}
    return set(probabilities) | set(active_rules(session).content.get("category_priors") or {})


def correct_category(
    session: Session, *, actor: Actor, petition_id: int, category: str, now: datetime
) -> Petition:
    """A clerk sets the right category; the difference from the engine's guess is kept for training."""
    require(actor, "petition.categorize")
    petition = get_petition(session, actor=actor, petition_id=petition_id)
    category = category.strip()
    allowed = known_categories(session, petition)
    if not category or (allowed and category not in allowed):
        raise InvalidInput(
            f"未知分类: {category!r}", code="petition.unknown_category", allowed=sorted(allowed)
        )
    previous = petition.category
    if previous == category:
        return petition
    petition.category = category
    record_correction(session, actor=actor, petition=petition, chosen_category=category, now=now)
    add_event(
        session,
        petition=petition,
        kind="category_corrected",
        actor=actor,
        at=now,
        summary=f"内容分类由“{previous or '未分类'}”更正为“{category}”",
        details={"from": previous, "to": category, "suggested": suggested_category(petition.analysis)},
    )
    audit.record(
        session,
        actor=actor,
        action="petition.category_correct",
        at=now,
        object_type="petition",
        object_id=petition.id,
        details={"from": previous, "to": category},
    )
    return petition


def corrections_for_training(session: Session) -> list[tuple[str, str]]:
    """(title + "\\n" + body, chosen category) per corrected petition, the latest correction winning.

    The stored text is the redacted one (ID and phone numbers masked), which is also what intake classifies.
    """
    rows = session.execute(
        select(
            RoutingCorrection.petition_id, RoutingCorrection.chosen_category, Petition.title, Petition.body
        )
        .join(Petition, Petition.id == RoutingCorrection.petition_id)
        .where(RoutingCorrection.chosen_category.is_not(None))
        .order_by(RoutingCorrection.id)
    )
    latest: dict[int, tuple[str, str]] = {
        pid: (f"{title}\n{body}", str(label)) for pid, label, title, body in rows
    }
    return list(latest.values())


# --- keyword suggestions ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _background_df() -> dict[str, float]:
    from xinfang.routing.keywords import background_from_model

    return background_from_model(default_pipeline().model)


def keyword_suggestions(
    session: Session, *, actor: Actor, now: datetime, days: int = 30, top: int = 30
) -> list[dict[str, Any]]:
    """Terms frequent in the petitions of the last `days` days, missing from the library and not yet decided.

    Why routing.manage: approving one writes a new rules version, so viewing and deciding belong to the
    people who may edit the rules (admin).
    """
    from xinfang.routing.keywords import suggest_keywords

    require(actor, "routing.manage")
    since = now - timedelta(days=days)
    texts = session.execute(
        select(Petition.title, Petition.body)
        .where(Petition.received_at >= since, Petition.received_at <= now)
        .order_by(Petition.received_at.desc())
        .limit(KEYWORD_TEXT_LIMIT)
    )
    decided = set(session.execute(select(KeywordDecision.term)).scalars())
    rules = parse_rules(active_rules(session).content, department_codes=routable_codes(session))
    found = suggest_keywords(
        (f"{t}\n{b}" for t, b in texts), rules, background_df=_background_df(), top=top + len(decided)
    )
    return [s for s in found if s["term"] not in decided][:top]


def decide_keyword(
    session: Session,
    *,
    actor: Actor,
    term: str,
    decision: str,
    now: datetime,
    department: str | None = None,
    weight: float = 1.0,
) -> KeywordDecision:
    """Approve (the term joins the department's keywords in a new rules version) or reject (never again)."""
    require(actor, "routing.manage")
    term = term.strip()
    if not term or len(term) > 50:
        raise InvalidInput("关键词不能为空且不超过50字", code="routing.keyword_invalid")
    if decision not in ("approve", "reject"):
        raise InvalidInput("decision 应为 approve 或 reject", code="routing.decision_invalid")
    version = None
    if decision == "approve":
        if not department:
            raise InvalidInput("采纳关键词须指定部门", code="routing.department_required")
        content = with_keyword(active_rules(session).content, term=term, department=department, weight=weight)
        version = save_rules(
            session, actor=actor, content=content, comment=f"采纳建议关键词 → {department}", now=now
        )
    row = session.execute(select(KeywordDecision).where(KeywordDecision.term == term)).scalar_one_or_none()
    row = row or KeywordDecision(term=term)
    row.decision, row.actor_id, row.at = decision, actor.user_id, now
    row.department = department if version else None
    row.weight = weight if version else None
    row.rules_version_id = version.id if version else None
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="routing.keyword_decide",
        at=now,
        object_type="keyword_decision",
        object_id=row.id,  # the term stays in its row: a recurring term can be a name, so not in the log
        details={"decision": decision, "department": row.department, "rules": version and version.number},
    )
    return row


def with_keyword(content: dict[str, Any], *, term: str, department: str, weight: float) -> dict[str, Any]:
    """A copy of the rules content with one more keyword for the department (added if it had none)."""
    new = copy.deepcopy(content)
    departments = new.setdefault("departments", [])
    entry = next((d for d in departments if d.get("code") == department), None)
    if entry is None:
        entry = {"code": department, "priority": 0, "keywords": []}
        departments.append(entry)
    entry.setdefault("keywords", []).append({"term": term, "weight": weight})
    return new


def after_step(session: Session, actor: Actor, petition: Petition, transition: Any, now: datetime) -> None:
    """The procedure hook: a person forwarding or assigning elsewhere than the engine suggested is a correction the
    next `xinfang model train` learns from. The engine's own forwarding (a system actor) teaches nothing."""
    if actor.is_system or transition.action.value not in ("forward", "assign"):
        return
    record_correction(
        session, actor=actor, petition=petition, chosen_department=transition.payload["department"], now=now
    )
