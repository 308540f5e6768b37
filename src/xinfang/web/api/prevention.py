"""Prevention and joint effort over HTTP: the dispute-screening ledger (with bulk import and the failures view), the
stability risk assessment register, joint handling (co-handling tasks, replies, joint meetings) and the
accountability figures with co-handling merged in."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from xinfang.analytics import accountability as acc
from xinfang.clock import local_date
from xinfang.errors import InvalidInput
from xinfang.prevention import joint, ledger, linking, risk
from xinfang.prevention.importer import import_ledger
from xinfang.security.permissions import require
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api", tags=["prevention"])
From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    step_on: date
    note: str = Field(..., min_length=1, max_length=5000)


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: str = Field(..., pattern="^(open|resolved|unresolved)$")
    outcome: str = Field(..., min_length=1, max_length=5000)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reply: str = Field(..., min_length=1, max_length=10_000)


# ---- ledger ---------------------------------------------------------------------------------------------------


@router.post("/prevention/ledger", status_code=201)
def create_entry(
    body: ledger.LedgerEntryIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    now = runtime.clock.now()
    entry, _ = ledger.create_entry(session, actor=actor, data=body, now=now)
    session.commit()
    return ledger.entry_view(entry, local_date(now))


@router.get("/prevention/ledger")
def list_entries(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    township: Annotated[str | None, Query(pattern=r"^\d{9}$")] = None,
    status: Annotated[str | None, Query(pattern="^(open|resolved|unresolved)$")] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    today = local_date(runtime.clock.now())
    rows = ledger.list_entries(
        session, actor=actor, today=today, township=township, status=status, overdue=overdue, limit=limit
    )
    return {"items": [ledger.entry_view(e, today) for e in rows], "total": len(rows)}


@router.get("/prevention/ledger/{entry_id}")
def get_entry(entry_id: int, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    entry = ledger.get_entry(session, actor=actor, entry_id=entry_id)
    return ledger.entry_view(entry, local_date(runtime.clock.now()))


@router.post("/prevention/ledger/{entry_id}/steps", status_code=201)
def add_step(
    entry_id: int, body: StepIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    now = runtime.clock.now()
    ledger.add_step(session, actor=actor, entry_id=entry_id, step_on=body.step_on, note=body.note, now=now)
    session.commit()
    return ledger.entry_view(ledger.get_entry(session, actor=actor, entry_id=entry_id), local_date(now))


@router.post("/prevention/ledger/{entry_id}/outcome")
def record_outcome(
    entry_id: int, body: OutcomeIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    now = runtime.clock.now()
    entry = ledger.close_entry(
        session, actor=actor, entry_id=entry_id, status=body.status, outcome=body.outcome, now=now
    )
    session.commit()
    return ledger.entry_view(entry, local_date(now))


@router.post("/prevention/ledger/import")
async def import_entries(
    file: UploadFile, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    """A township's XLSX/CSV sheet: all rows or none; 422 with every failing row named when any row is wrong."""
    limit = runtime.settings.max_upload_bytes
    data = await file.read(limit + 1)
    report = import_ledger(
        session,
        actor=actor,
        data=data,
        filename=file.filename or "台账.xlsx",
        now=runtime.clock.now(),
        max_bytes=limit,
        max_rows=runtime.settings.max_import_rows,
    )
    if not report.ok:
        session.rollback()
        raise InvalidInput(
            report.failure_line(),
            code="prevention.import_failed",
            report=report.to_dict(),
        )
    session.commit()
    return report.to_dict()


@router.get("/prevention/failures")
def failures(session: SessionDep, actor: ActorDep, start: From = None, end: To = None) -> dict[str, Any]:
    """Ledger entries that later arrived as petitions: where early resolution failed, per township."""
    return linking.failures(session, actor=actor, start=start, end=end)


# ---- risk assessment register -----------------------------------------------------------------------------------


@router.post("/prevention/risk-projects", status_code=201)
def create_project(
    body: risk.RiskProjectIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    now = runtime.clock.now()
    project = risk.create_project(session, actor=actor, data=body, now=now)
    session.commit()
    return {**risk.project_view(project), "monitoring": risk.monitor(session, project, local_date(now))}


@router.get("/prevention/risk-projects")
def list_projects(
    session: SessionDep, runtime: RuntimeDep, actor: ActorDep, flagged: bool = False
) -> dict[str, Any]:
    rows = risk.list_projects(session, actor=actor, today=local_date(runtime.clock.now()))
    if flagged:
        rows = [r for r in rows if r["monitoring"]["flagged"]]
    return {"items": rows, "total": len(rows)}


@router.get("/prevention/risk-projects/{project_id}/related")
def related(project_id: int, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    """The related petitions and hotline records since the start: list, counts by township, GeoJSON points."""
    return risk.related_records(
        session, actor=actor, project_id=project_id, today=local_date(runtime.clock.now())
    )


# ---- joint handling -------------------------------------------------------------------------------------------


@router.get("/petitions/{petition_id}/joint")
def petition_joint(
    petition_id: int, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    return joint.joint_view(
        session, actor=actor, petition_id=petition_id, today=local_date(runtime.clock.now())
    )


@router.post("/petitions/{petition_id}/joint-tasks", status_code=201)
def add_joint_tasks(
    petition_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    tasks: Annotated[list[joint.CoTaskIn], Body(embed=True, max_length=20)],
) -> dict[str, Any]:
    """Bring in co-handling departments (each with its task and deadline); they then see the petition."""
    now = runtime.clock.now()
    joint.add_tasks(session, actor=actor, petition_id=petition_id, tasks=tasks, now=now)
    session.commit()
    return joint.joint_view(session, actor=actor, petition_id=petition_id, today=local_date(now))


@router.get("/joint-tasks")
def list_joint_tasks(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(pattern="^(open|done)$")] = "open",
) -> dict[str, Any]:
    today = local_date(runtime.clock.now())
    rows = joint.list_tasks(session, actor=actor, status=status)
    return {"items": [joint.task_view(t, today) for t in rows], "total": len(rows)}


@router.post("/joint-tasks/{task_id}/reply")
def reply_joint_task(
    task_id: int, body: ReplyIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    now = runtime.clock.now()
    task = joint.reply_part(session, actor=actor, task_id=task_id, reply=body.reply, now=now)
    session.commit()
    return joint.task_view(task, local_date(now))


@router.post("/joint-meetings", status_code=201)
def record_meeting(
    body: joint.MeetingIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    meeting = joint.record_meeting(session, actor=actor, data=body, now=runtime.clock.now())
    session.commit()
    return {
        "id": meeting.id,
        "petition_id": meeting.petition_id,
        "held_on": meeting.held_on,
        "topic": meeting.topic,
        "attendees": meeting.attendees,
        "decisions": meeting.decisions,
    }


@router.get("/prevention/accountability")
def accountability_with_co_handling(
    session: SessionDep, runtime: RuntimeDep, actor: ActorDep, start: From = None, end: To = None
) -> dict[str, Any]:
    """The per-department accountability figures (三率 ...) with the co-handling figures merged in."""
    require(actor, "oversight.read")
    today = local_date(runtime.clock.now())
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise InvalidInput("开始日期不能晚于结束日期", code="period.reversed")
    rows = acc.accountability(session, start=start, end=end, today=today, by="department")
    figures = joint.co_handling_figures(session, start=start, end=end, today=today)
    return {"from": start, "to": end, "by": "department", "rows": joint.merge_co_handling(rows, figures)}
