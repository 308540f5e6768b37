"""案件评查 API: automatic reviews, the reviewer workbench (lowest scores, samples, verdicts, agreement) and the
per-unit quality figures beside the accountability figures. Supervisors review; leaders and admins read."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from xinfang.analytics import accountability as acc
from xinfang.clock import CHINA_TZ, local_date
from xinfang.errors import InvalidInput
from xinfang.review import service
from xinfang.review.rules import PASS_THRESHOLD, RULES_VERSION, WEIGHTS
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/review", tags=["review"])
From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]


class SampleIn(BaseModel):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    size: int = Field(ge=1, le=500)
    unit: str | None = None
    random_share: float = Field(default=0.5, ge=0, le=1)
    seed: int | None = Field(default=None, ge=0, lt=2**31)


class VerdictIn(BaseModel):
    overall: str = Field(pattern="^(agree|disagree)$")
    findings: dict[str, str] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=2000)
    sample_id: int | None = None


def _period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise InvalidInput("开始日期不能晚于结束日期", code="period.reversed")
    return start, end


@router.get("/rules")
def rules_info(actor: ActorDep) -> dict[str, Any]:
    """The rules version, the weights and the pass threshold (facts of the method, no case data; staff only, like
    every API route)."""
    return {"version": RULES_VERSION, "weights": dict(WEIGHTS), "pass_threshold": PASS_THRESHOLD}


@router.post("/run")
def run(session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    """Review every concluded case not yet reviewed by the current rules version."""
    result = service.review_concluded(session, actor=actor, now=runtime.clock.now())
    session.commit()
    return result


@router.post("/cases/{petition_id}")
def review_now(petition_id: int, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    """Review one case now, whatever its status."""
    row = service.review_petition(session, actor=actor, petition_id=petition_id, now=runtime.clock.now())
    session.commit()
    return service.review_for_petition(session, actor=actor, petition_id=petition_id) | {"id": row.id}


@router.get("/cases/{petition_id}")
def case_review(petition_id: int, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    """The current review of a case and the reviewers' verdicts on it."""
    return service.review_for_petition(session, actor=actor, petition_id=petition_id)


@router.get("/lowest")
def lowest(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    start: From = None,
    end: To = None,
    unit: str | None = None,
    per_unit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """Per unit, the lowest-scoring cases concluded in [from, to] (default: this month)."""
    start, end = _period(start, end, local_date(runtime.clock.now()))
    units = service.lowest_scoring(session, actor=actor, start=start, end=end, unit=unit, per_unit=per_unit)
    return {"from": start, "to": end, "units": units}


@router.post("/samples", status_code=201)
def draw_sample(body: SampleIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    """Draw cases for manual review: round(size × random_share) at random, the rest weighted by risk."""
    sample = service.draw_sample(
        session,
        actor=actor,
        now=runtime.clock.now(),
        start=body.start,
        end=body.end,
        size=body.size,
        unit=body.unit,
        random_share=body.random_share,
        seed=body.seed,
    )
    session.commit()
    return service.sample_dict(session, actor=actor, sample_id=sample.id)


@router.get("/samples/{sample_id}")
def get_sample(sample_id: int, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return service.sample_dict(session, actor=actor, sample_id=sample_id)


@router.post("/reviews/{review_id}/verdicts", status_code=201)
def verdict(
    review_id: int, body: VerdictIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    """The reviewer's verdict next to the automatic review: agree/disagree overall and per finding, a note."""
    row = service.record_verdict(
        session,
        actor=actor,
        review_id=review_id,
        overall=body.overall,
        findings=body.findings,
        note=body.note,
        now=runtime.clock.now(),
        sample_id=body.sample_id,
    )
    session.commit()
    return service.verdict_dict(row)


@router.get("/agreement")
def agreement(session: SessionDep, actor: ActorDep, start: From = None, end: To = None) -> dict[str, Any]:
    """Reviewers vs the automatic review by month: percent agreement and Cohen's kappa (overall and findings)."""
    lo = datetime.combine(start, time(), CHINA_TZ) if start else None
    hi = datetime.combine(end + timedelta(days=1), time(), CHINA_TZ) if end else None
    return service.agreement(session, actor=actor, start=lo, end=hi)


@router.get("/quality")
def quality(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    start: From = None,
    end: To = None,
    by: Annotated[str, Query(pattern="^(department|township)$")] = "department",
    threshold: Annotated[int, Query(ge=0, le=100)] = PASS_THRESHOLD,
) -> dict[str, Any]:
    """Per unit (or township): cases reviewed, mean score, share below the threshold, for cases concluded in the
    period."""
    start, end = _period(start, end, local_date(runtime.clock.now()))
    rows = service.unit_quality(session, actor=actor, start=start, end=end, by=by, threshold=threshold)
    return {"from": start, "to": end, "by": by, "threshold": threshold, "units": rows}


@router.get("/accountability")
def accountability_with_quality(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    start: From = None,
    end: To = None,
    by: Annotated[str, Query(pattern="^(department|township)$")] = "department",
) -> dict[str, Any]:
    """The accountability figures (三率 ...) of /api/accountability with the review quality figures merged in."""
    from xinfang.security.permissions import require

    require(actor, "oversight.read")
    today = local_date(runtime.clock.now())
    start, end = _period(start, end, today)
    rows = acc.accountability(session, start=start, end=end, today=today, by=by)
    quality_rows = service.unit_quality(session, actor=actor, start=start, end=end, by=by)
    return {"from": start, "to": end, "by": by, "rows": service.merge_quality(rows, quality_rows)}
