"""Intelligent dispatch on the database: rules versions, try-out, review queue, category correction, keywords, links.

Thin handlers: parse, call one service of xinfang.dispatch, commit where something was written, map to JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from xinfang.dispatch import repeats
from xinfang.dispatch import service as dispatch
from xinfang.dispatch.models import RulesVersion
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api", tags=["dispatch"])


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: dict[str, Any] | str = Field(..., description="the rules as a mapping or as YAML text")
    comment: str | None = Field(None, max_length=500)
    base_version: int | None = Field(None, description="the version number edited; 409 if no longer active")


class RulesTestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field("", max_length=200)
    body: str = Field(..., min_length=1, max_length=20_000)
    content: dict[str, Any] | str | None = Field(
        None, description="a draft to try instead of the active rules"
    )


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str = Field(..., min_length=1, max_length=50)


class KeywordDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    term: str = Field(..., min_length=1, max_length=50)
    decision: Literal["approve", "reject"]
    department: str | None = Field(None, max_length=32)
    weight: float = Field(1.0, gt=0, le=10)


def _version(v: RulesVersion, *, with_content: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.id,
        "number": v.number,
        "comment": v.comment,
        "created_at": v.created_at,
        "created_by": v.created_by.username if v.created_by else None,
        "is_active": v.is_active,
    }
    return out | ({"content": v.content} if with_content else {})


@router.get("/routing/rules")
def get_rules(session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    """The active responsibility list + keyword library (database version, else the shipped file) and history."""
    versions = dispatch.list_rule_versions(session, actor=actor)
    active = dispatch.active_rules(session)
    head = _version(active.version) if active.version else {"number": None, "comment": "内置职责清单"}
    return {
        "active": head | {"source": active.source, "content": active.content},
        "versions": [_version(v) for v in versions],
    }


@router.put("/routing/rules")
def put_rules(data: RulesIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    """Validate and store a new active version (admin). Invalid rules answer 422 with the rule error's code."""
    version = dispatch.save_rules(
        session,
        actor=actor,
        content=data.content,
        comment=data.comment,
        now=runtime.clock.now(),
        base_number=data.base_version,
    )
    session.commit()
    return _version(version, with_content=True)


@router.post("/routing/rules/test")
def test_rules(
    data: RulesTestIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    """How a text would be routed by the active rules, or by a submitted draft; nothing is saved."""
    return dispatch.try_rules(
        session,
        actor=actor,
        title=data.title,
        body=data.body,
        content=data.content,
        model_dir=runtime.settings.model_dir,  # the deployment's active model, as intake uses
    )


@router.get("/routing/queue")
def review_queue(
    session: SessionDep,
    actor: ActorDep,
    page: int = Query(1, ge=1, le=100_000),  # bounded: the OFFSET must fit 64 bits (else a 500)
    page_size: int = Query(20, ge=1, le=200),
) -> dict[str, Any]:
    """Petitions waiting for a person to choose the department, with the engine's top-3 suggestions."""
    rows, total = dispatch.list_review_queue(session, actor=actor, page=page, page_size=page_size)
    items = [
        {
            "id": p.id,
            "number": p.number,
            "title": p.title,
            "received_at": p.received_at,
            "division_code": p.division_code,
            "category": p.category,
            "suggested_category": dispatch.suggested_category(p.analysis),
            "suggestions": dispatch.suggestions(p.analysis),
            "reason": (p.analysis or {}).get("auto_dispatch_reason"),
        }
        for p in rows
    ]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.post("/petitions/{petition_id}/category")
def correct_category(
    petition_id: int, data: CategoryIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    """Correct the content category; the difference from the engine's suggestion trains the next model."""
    petition = dispatch.correct_category(
        session, actor=actor, petition_id=petition_id, category=data.category, now=runtime.clock.now()
    )
    session.commit()
    return {"id": petition.id, "category": petition.category}


@router.get("/routing/keyword-suggestions")
def keyword_suggestions(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    days: int = Query(30, ge=1, le=365),
    top: int = Query(30, ge=1, le=100),
) -> dict[str, Any]:
    """Recurring recent terms missing from the keyword library and not yet approved or rejected (admin)."""
    items = dispatch.keyword_suggestions(session, actor=actor, now=runtime.clock.now(), days=days, top=top)
    return {"days": days, "items": items}


@router.post("/routing/keyword-suggestions/decide")
def decide_keyword(
    data: KeywordDecisionIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    """Approve (adds the keyword to the department in a new rules version) or reject (not suggested again)."""
    row = dispatch.decide_keyword(
        session,
        actor=actor,
        term=data.term,
        decision=data.decision,
        department=data.department,
        weight=data.weight,
        now=runtime.clock.now(),
    )
    session.commit()
    version = session.get(RulesVersion, row.rules_version_id) if row.rules_version_id else None
    return {
        "term": row.term,
        "decision": row.decision,
        "department": row.department,
        "weight": row.weight,
        "rules_version": version.number if version else None,
    }


@router.get("/petitions/{petition_id}/links")
def petition_links(petition_id: int, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    """Earlier (and later) petitions linked as repeats, with similarity and reasons; only those the actor may see."""
    views = repeats.list_links(session, actor=actor, petition_id=petition_id)
    return {"items": [_link(v) for v in views]}


def _link(view: repeats.LinkView) -> dict[str, Any]:
    other: Any = view.other
    received: datetime = other.received_at
    return {
        "petition_id": other.id,
        "number": other.number,
        "title": other.title,
        "status": other.status,
        "received_at": received,
        "direction": view.direction,
        "kind": view.link.kind,
        "similarity": view.link.similarity,
        "reasons": view.link.reasons,
    }
