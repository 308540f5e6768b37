"""督办 answered: the supervised unit reports back to the supervisor.

A 督办 (issued by the `supervise` step, cases.procedure) tells the handling unit to report on the matter by a date.
`respond` records that report: the unit's answer and, if asked, a snapshot of the case's progress (status, open
duty deadlines, last step) at that moment; it sets `responded_at`, which takes the petition out of the 督办 boxes
(inbox.service), adds an event to the case history and an audit entry, and tells the supervisor who issued it.

Who answers: staff (登记员 or 办理员, permission `supervision.respond`) of the supervised unit — the unit the
petition was with when it was supervised, or the county bureau for a petition then still awaiting dispatch. A
督办 is answered once; a new 督办 is the way to ask again. Answering does not change the petition's status: the
statutory steps remain the procedure's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.deadlines import CLOCK_STATE_LABELS, STATUTORY, Rule, clock_state, is_duty
from xinfang.cases.enums import STATUS_LABELS, Status
from xinfang.cases.events import add_event
from xinfang.cases.models import Notification, Petition, Supervision
from xinfang.cases.procedure import BUREAU_CODE
from xinfang.clock import local_date
from xinfang.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from xinfang.org.models import OrgUnit
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import can, may_see_petition, require

LEVEL_LABELS = {"normal": "普通", "yellow": "黄牌", "red": "红牌"}
MAX_RESPONSE = 2000
EVENT_KIND = "supervision_response"


def _bureau_id(session: Session) -> int | None:
    return session.execute(select(OrgUnit.id).where(OrgUnit.code == BUREAU_CODE)).scalar_one_or_none()


def supervised_unit_id(session: Session, supervision: Supervision) -> int | None:
    """The unit that must answer: the one supervised, or the bureau when the petition had no unit yet."""
    return supervision.unit_id if supervision.unit_id is not None else _bureau_id(session)


def may_respond(session: Session, actor: Actor, supervision: Supervision) -> bool:
    """Whether the case page offers this actor the answer form for this 督办 (the same test `respond` applies)."""
    return (
        supervision.responded_at is None
        and can(actor, "supervision.respond")
        and actor.org_unit_id is not None
        and actor.org_unit_id == supervised_unit_id(session, supervision)
    )


def progress_summary(petition: Petition, today: date) -> str:
    """The case's progress in one line, for the supervisor: status, open duty deadlines with their state, the
    last step taken. Built from stored rows only; no personal data."""
    status = Status(petition.status) if petition.status in Status._value2member_map_ else None
    parts = [f"当前状态:{STATUS_LABELS[status] if status else petition.status}"]
    clocks = [
        c for c in petition.clocks if c.closed_on is None and not c.binds_petitioner and is_duty(c.rule)
    ]
    if clocks:
        parts.append(
            "未完成的期限:"
            + ";".join(
                f"{STATUTORY[Rule(c.rule)].label} 至{c.due_on.isoformat()}"
                f"({CLOCK_STATE_LABELS[clock_state(c.start_on, c.due_on, today)]})"
                for c in sorted(clocks, key=lambda c: c.due_on)
            )
        )
    steps = [e for e in petition.events if e.kind not in (EVENT_KIND, "supervise", "registered")]
    if steps:
        last = max(steps, key=lambda e: (e.at, e.id or 0))
        parts.append(f"最近办理:{last.summary}({local_date(last.at).isoformat()})")
    return ";".join(parts)


def respond(
    session: Session,
    *,
    actor: Actor,
    supervision_id: int,
    response: str,
    attach_progress: bool = False,
    now: datetime,
) -> Supervision:
    """Record the supervised unit's answer to a 督办, in the caller's transaction.

    403 for a role that does not answer 督办 or a user of another unit, 404 for a 督办 that does not exist or
    whose petition the actor may not see, 409 if it was answered already, 422 for an empty or overlong answer.
    """
    require(actor, "supervision.respond")
    supervision = session.execute(
        select(Supervision).where(Supervision.id == supervision_id).with_for_update()
    ).scalar_one_or_none()
    if supervision is None or not may_see_petition(actor, supervision.petition):
        raise NotFound("督办不存在或无权查看", code="supervision.not_found")
    if actor.org_unit_id is None or actor.org_unit_id != supervised_unit_id(session, supervision):
        raise PermissionDenied("只有被督办单位的工作人员可以回复督办", code="supervision.wrong_unit")
    if supervision.responded_at is not None:
        raise InvalidTransition(
            f"该督办已于{local_date(supervision.responded_at).isoformat()}回复",
            code="supervision.already_answered",
        )
    text = (response or "").strip()
    if not text:
        raise InvalidInput("请填写「回复内容」", code="supervision.response_required", field="response")
    if len(text) > MAX_RESPONSE:
        raise InvalidInput(
            f"「回复内容」不能超过{MAX_RESPONSE}字", code="supervision.response_too_long", field="response"
        )
    petition = supervision.petition
    today = local_date(now)
    supervision.response = text
    supervision.responded_at = now
    supervision.responded_by_id = actor.user_id
    supervision.progress = progress_summary(petition, today) if attach_progress else None
    level = LEVEL_LABELS.get(supervision.level, supervision.level)
    on_time = today <= supervision.due_on
    add_event(
        session,
        petition=petition,
        kind=EVENT_KIND,
        actor=actor,
        at=now,
        summary=f"回复{level}督办:{text[:200]}",
        details={
            "supervision_id": supervision.id,
            "level": supervision.level,
            "on_time": on_time,
            "progress_attached": attach_progress,
        },
    )
    audit.record(
        session,
        actor=actor,
        action="supervision.respond",
        at=now,
        object_type="supervision",
        object_id=supervision.id,
        details={"petition_id": petition.id, "level": supervision.level, "on_time": on_time},
    )
    _notify_supervisor(session, supervision=supervision, petition=petition, level=level, now=now)
    session.flush()
    return supervision


def _notify_supervisor(
    session: Session, *, supervision: Supervision, petition: Petition, level: str, now: datetime
) -> None:
    """The supervisor who issued the 督办 learns of the answer (the bureau, if the system issued it)."""
    message = f"{petition.number}的{level}督办已回复" + (
        "" if local_date(now) <= supervision.due_on else "(超过督办期限)"
    )
    user_id = supervision.issued_by_id
    unit_id = None if user_id is not None else _bureau_id(session)
    if user_id is None and unit_id is None:
        return
    session.add(
        Notification(
            user_id=user_id,
            unit_id=unit_id,
            petition_id=petition.id,
            kind="supervision_answered",
            message=message[:500],
            created_at=now,
            dedup_key=f"supervision_answered:{supervision.id}",
        )
    )


def supervision_view(session: Session, supervision: Supervision) -> dict[str, Any]:
    """A 督办 as the API and the case page show it: `unit` is the unit that must answer (the bureau for a petition
    supervised before dispatch); the answer's author by username; no personal data."""
    unit = supervision.unit
    if unit is None:
        unit_id = supervised_unit_id(session, supervision)
        unit = session.get(OrgUnit, unit_id) if unit_id is not None else None
    return {
        "id": supervision.id,
        "petition_id": supervision.petition_id,
        "level": supervision.level,
        "level_label": LEVEL_LABELS.get(supervision.level, supervision.level),
        "instruction": supervision.instruction,
        "unit": unit.name if unit else None,
        "due_on": supervision.due_on,
        "issued_at": supervision.issued_at,
        "issued_by": supervision.issued_by.username if supervision.issued_by else None,
        "answered": supervision.responded_at is not None,
        "responded_at": supervision.responded_at,
        "responded_by": supervision.responded_by.username if supervision.responded_by else None,
        "response": supervision.response,
        "progress": supervision.progress,
        "answered_late": (
            supervision.responded_at is not None and local_date(supervision.responded_at) > supervision.due_on
        ),
    }


def list_for_petition(session: Session, *, actor: Actor, petition_id: int) -> list[Supervision]:
    """The petition's 督办, oldest first, for whoever may see the petition."""
    require(actor, "petition.read")
    petition = session.get(Petition, petition_id)
    if petition is None or not may_see_petition(actor, petition):
        raise NotFound("信访件不存在或无权查看", code="petition.not_found")
    return list(petition.supervisions)
