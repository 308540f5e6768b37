"""Joint handling (多方联动): a petition's handling department leads; co-handling departments each get a task with
its own deadline and send back their part; 联席会议 are recorded. The lead's reply (the procedure's `reply`) is refused
while any co-handling part is missing: `before_step` is the ProcedureContext hook runtime.py wires in.

Visibility: creating a task grants the co-handling unit access to the petition through the generic
`cases.models.PetitionAccess` table (reason "co_handling"), which `security.permissions` consults; neither `cases` nor
`security` imports this slice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.enums import OrgKind
from xinfang.cases.events import add_event
from xinfang.cases.models import Notification, Petition, PetitionAccess
from xinfang.cases.procedure import lock_petition
from xinfang.cases.workflow import Action, Transition
from xinfang.clock import local_date
from xinfang.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from xinfang.org.models import OrgUnit
from xinfang.org.service import find_unit
from xinfang.prevention.models import JointMeeting, JointTask
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, require_petition_visible, sees_everything

ACCESS_REASON = "co_handling"
DUE_SOON_DAYS = 2


class CoTaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    unit: str = Field(..., min_length=1, max_length=32, description="co-handling unit code")
    task: str = Field(..., min_length=1, max_length=2000)
    due_on: date


class MeetingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    held_on: date
    topic: str = Field(..., min_length=1, max_length=200)
    attendees: list[str] = Field(..., min_length=2, max_length=50, description="unit codes")
    decisions: str = Field(..., min_length=1, max_length=10_000)
    petition_id: int | None = None


def _unit(session: Session, code: str) -> OrgUnit:
    unit = find_unit(session, code)
    if unit is None or unit.kind == OrgKind.VILLAGE:
        raise InvalidInput(f"未知的单位:{code}", code="joint.unknown_unit", unit=code)
    return unit


def _require_coordinator(actor: Actor, petition: Petition) -> None:
    """The bureau coordinates any matter; a handling department may bring in co-handlers for its own matter."""
    require(actor, "joint.manage")
    if sees_everything(actor) or (
        actor.org_unit_id is not None and actor.org_unit_id == petition.department_id
    ):
        return
    raise PermissionDenied("只有县信访局或牵头单位可以安排会办", code="joint.not_coordinator")


def add_tasks(
    session: Session, *, actor: Actor, petition_id: int, tasks: list[CoTaskIn], now: datetime
) -> list[JointTask]:
    petition = lock_petition(session, petition_id)
    require_petition_visible(actor, petition)
    _require_coordinator(actor, petition)
    if petition.department_id is None:
        raise InvalidTransition("尚未确定牵头(承办)单位,不能安排会办", code="joint.no_lead")
    if not tasks:
        raise InvalidInput("请至少指定一个会办单位", code="joint.no_tasks")
    today = local_date(now)
    existing = {
        t.unit_id: t
        for t in session.execute(select(JointTask).where(JointTask.petition_id == petition.id)).scalars()
    }
    created: list[JointTask] = []
    for item in tasks:
        unit = _unit(session, item.unit)
        if unit.id == petition.department_id:
            raise InvalidInput("牵头单位不能同时作为会办单位", code="joint.lead_as_co", unit=unit.code)
        if petition.accused_unit_id == unit.id:
            raise InvalidInput("检举控告事项不得交被检举控告的单位会办", code="joint.accused_unit")
        if item.due_on < today:
            raise InvalidInput("会办期限不能早于今天", code="joint.due_past")
        if unit.id in existing:
            raise InvalidInput(f"{unit.name}已是会办单位", code="joint.duplicate", unit=unit.code)
        task = JointTask(
            petition_id=petition.id,
            unit=unit,
            task=item.task,
            start_on=today,
            due_on=item.due_on,
            status="open",
            created_at=now,
            created_by_id=actor.user_id,
        )
        session.add(task)
        existing[unit.id] = task
        created.append(task)
        grant = session.execute(
            select(PetitionAccess).where(
                PetitionAccess.petition_id == petition.id,
                PetitionAccess.unit_id == unit.id,
                PetitionAccess.reason == ACCESS_REASON,
            )
        ).scalar_one_or_none()
        if grant is None:
            session.add(
                PetitionAccess(petition=petition, unit_id=unit.id, reason=ACCESS_REASON, granted_at=now)
            )
        session.add(
            Notification(
                unit_id=unit.id,
                petition_id=petition.id,
                kind="joint_task",
                message=f"{petition.number}需贵单位会办,请于{item.due_on.isoformat()}前反馈",
                dedup_key=f"joint:{petition.id}:{unit.id}:assigned",
                created_at=now,
            )
        )
    session.flush()
    add_event(
        session,
        petition=petition,
        kind="joint_tasks",
        actor=actor,
        at=now,
        summary="安排会办:" + "、".join(t.unit.name for t in created),
        details={"units": [item.unit for item in tasks]},
    )
    audit.record(
        session,
        actor=actor,
        action="joint.assign",
        at=now,
        object_type="petition",
        object_id=petition.id,
        details={"units": [item.unit for item in tasks]},
    )
    return created


def reply_part(session: Session, *, actor: Actor, task_id: int, reply: str, now: datetime) -> JointTask:
    """The co-handling unit sends its part; only that unit's handlers may, once."""
    require(actor, "joint.reply")
    task = session.get(JointTask, task_id, with_for_update=True)
    if task is None or actor.org_unit_id != task.unit_id:
        raise NotFound("会办任务不存在或无权办理", code="joint.not_found")
    if task.status != "open":
        raise InvalidTransition("该会办任务已反馈", code="joint.already_replied")
    if not reply.strip():
        raise InvalidInput("请填写会办意见", code="joint.reply_empty")
    task.status, task.reply, task.replied_on, task.replied_by_id = (
        "done",
        reply.strip()[:10_000],
        local_date(now),
        actor.user_id,
    )
    petition = task.petition
    add_event(
        session,
        petition=petition,
        kind="joint_reply",
        actor=actor,
        at=now,
        summary=f"会办反馈:{task.unit.name}",
        details={"task_id": task.id, "unit": task.unit.code},
    )
    audit.record(
        session,
        actor=actor,
        action="joint.reply",
        at=now,
        object_type="petition",
        object_id=petition.id,
        details={"task_id": task.id},
    )
    if petition.department_id is not None:
        session.add(
            Notification(
                unit_id=petition.department_id,
                petition_id=petition.id,
                kind="joint_reply",
                message=f"{task.unit.name}已反馈{petition.number}的会办意见",
                dedup_key=f"joint:{task.id}:replied",
                created_at=now,
            )
        )
    session.flush()
    return task


def open_tasks(session: Session, petition_id: int) -> list[JointTask]:
    return list(
        session.execute(
            select(JointTask).where(JointTask.petition_id == petition_id, JointTask.status == "open")
        ).scalars()
    )


def before_step(
    session: Session, actor: Actor, petition: Petition, transition: Transition, now: datetime
) -> None:
    """Refuse the lead department's reply while a co-handling part is missing (409)."""
    if transition.action != Action.REPLY:
        return
    missing = open_tasks(session, petition.id)
    if missing:
        names = "、".join(t.unit.name for t in missing)
        raise InvalidTransition(
            f"会办单位尚未反馈:{names}。会办意见齐全后方可出具处理意见",
            code="joint.parts_missing",
            units=[t.unit.code for t in missing],
        )


def record_meeting(session: Session, *, actor: Actor, data: MeetingIn, now: datetime) -> JointMeeting:
    require(actor, "joint.manage")
    if data.held_on > local_date(now):
        raise InvalidInput("会议日期不能晚于今天", code="joint.meeting_future")
    codes = list(dict.fromkeys(data.attendees))
    for code in codes:
        _unit(session, code)
    petition = None
    if data.petition_id is not None:
        petition = session.get(Petition, data.petition_id)
        if petition is None:
            raise NotFound("信访件不存在或无权查看", code="petition.not_found")
        require_petition_visible(actor, petition)
        _require_coordinator(actor, petition)
    elif not sees_everything(actor):
        raise PermissionDenied("只有县信访局可以记录不涉及具体信访件的联席会议", code="joint.not_coordinator")
    meeting = JointMeeting(
        petition_id=data.petition_id,
        held_on=data.held_on,
        topic=data.topic,
        attendees=codes,
        decisions=data.decisions,
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(meeting)
    session.flush()
    if petition is not None:
        add_event(
            session,
            petition=petition,
            kind="joint_meeting",
            actor=actor,
            at=now,
            summary=f"联席会议:{data.topic[:60]}",
            details={"meeting_id": meeting.id, "attendees": codes},
        )
    audit.record(
        session,
        actor=actor,
        action="joint.meeting",
        at=now,
        object_type="joint_meeting",
        object_id=meeting.id,
        details={"petition_id": data.petition_id, "attendees": len(codes)},
    )
    return meeting


def task_view(task: JointTask, today: date) -> dict[str, Any]:
    return {
        "id": task.id,
        "petition_id": task.petition_id,
        "petition_number": task.petition.number,
        "unit": task.unit.code,
        "unit_name": task.unit.name,
        "task": task.task,
        "start_on": task.start_on,
        "due_on": task.due_on,
        "status": task.status,
        "is_overdue": task.status == "open" and task.due_on < today,
        "reply": task.reply,
        "replied_on": task.replied_on,
    }


def joint_view(session: Session, *, actor: Actor, petition_id: int, today: date) -> dict[str, Any]:
    require(actor, "petition.read")
    petition = session.get(Petition, petition_id)
    if petition is None:
        raise NotFound("信访件不存在或无权查看", code="petition.not_found")
    require_petition_visible(actor, petition)
    tasks = session.execute(
        select(JointTask).where(JointTask.petition_id == petition_id).order_by(JointTask.id)
    ).scalars()
    meetings = session.execute(
        select(JointMeeting).where(JointMeeting.petition_id == petition_id).order_by(JointMeeting.held_on)
    ).scalars()
    views = [task_view(t, today) for t in tasks]
    return {
        "petition_id": petition.id,
        "number": petition.number,
        "lead": {"code": petition.department.code, "name": petition.department.name}
        if petition.department
        else None,
        "co_handlers": views,
        "parts_complete": all(v["status"] == "done" for v in views),
        "meetings": [
            {
                "id": m.id,
                "held_on": m.held_on,
                "topic": m.topic,
                "attendees": m.attendees,
                "decisions": m.decisions,
            }
            for m in meetings
        ],
    }


def list_tasks(
    session: Session, *, actor: Actor, status: str | None = "open", limit: int = 200
) -> list[JointTask]:
    """A unit's co-handling inbox; county-level staff see every task."""
    require(actor, "petition.read")
    q = select(JointTask)
    if not sees_everything(actor):
        q = q.where(JointTask.unit_id == (actor.org_unit_id or -1))
    if status:
        q = q.where(JointTask.status == status)
    return list(
        session.execute(q.order_by(JointTask.due_on, JointTask.id).limit(min(max(limit, 1), 1000))).scalars()
    )


def remind_tasks(session: Session, *, now: datetime) -> dict[str, int]:
    today = local_date(now)
    existing = set(
        session.execute(
            select(Notification.dedup_key).where(Notification.dedup_key.like("joint:%"))
        ).scalars()
    )
    counts = {"joint_due_soon": 0, "joint_overdue": 0}
    rows = session.execute(
        select(JointTask).where(
            JointTask.status == "open", JointTask.due_on <= today + timedelta(days=DUE_SOON_DAYS)
        )
    ).scalars()
    for task in rows:
        state = "overdue" if task.due_on < today else "due_soon"
        key = f"joint:{task.id}:{state}"
        if key in existing:
            continue
        word = "已超期" if state == "overdue" else "即将到期"
        session.add(
            Notification(
                unit_id=task.unit_id,
                petition_id=task.petition_id,
                kind=f"joint_{state}",
                message=f"{task.petition.number}会办任务{word}(期限{task.due_on.isoformat()})",
                dedup_key=key,
                created_at=now,
            )
        )
        existing.add(key)
        counts[f"joint_{state}"] += 1
    return counts


# ---- accountability: co-handling counts beside the 三率 ---------------------------------------------------------

CO_COLUMNS = (
    ("co_tasks", "会办件数"),
    ("co_replied", "会办已反馈"),
    ("co_on_time_rate", "会办按期反馈率"),
    ("co_overdue", "会办超期"),
)


def co_handling_figures(
    session: Session, *, start: date, end: date, today: date
) -> dict[str, dict[str, Any]]:
    """{unit code: co-handling tasks assigned in [start, end], replied, on-time reply rate, overdue (open past due
    or replied late)}."""
    acc: dict[str, dict[str, int]] = defaultdict(
        lambda: {"co_tasks": 0, "co_replied": 0, "on_time": 0, "due": 0, "co_overdue": 0}
    )
    q = select(JointTask).where(JointTask.start_on >= start, JointTask.start_on <= end)
    for task in session.execute(q).scalars():
        row = acc[task.unit.code]
        row["co_tasks"] += 1
        replied_on = task.replied_on
        row["co_replied"] += replied_on is not None
        if replied_on is not None or task.due_on < today:
            row["due"] += 1
            row["on_time"] += replied_on is not None and replied_on <= task.due_on
        late = replied_on > task.due_on if replied_on is not None else task.due_on < today
        row["co_overdue"] += late
    return {
        code: {
            "co_tasks": r["co_tasks"],
            "co_replied": r["co_replied"],
            "co_on_time_rate": round(r["on_time"] / r["due"], 4) if r["due"] else None,
            "co_overdue": r["co_overdue"],
        }
        for code, r in acc.items()
    }


def merge_co_handling(rows: list[dict[str, Any]], figures: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Accountability rows (keyed by `key`) with the co-handling figures added; units with co-handling tasks only
    get a row of their own."""
    empty = {"co_tasks": 0, "co_replied": 0, "co_on_time_rate": None, "co_overdue": 0}
    merged = [{**r, **figures.get(str(r.get("key")), empty)} for r in rows]
    seen = {str(r.get("key")) for r in rows}
    merged += [{"key": code, "name": code, **f} for code, f in figures.items() if code not in seen]
    return merged
