"""Taking a step of the 信访工作条例 procedure on a stored petition: the database side of `workflow`.

Order, in the caller's transaction: lock the petition -> check visibility and the actor's unit -> build the case
context from the stored clocks -> `workflow.check` (refuses illegal steps, changing nothing) -> apply the step's
effects -> close and open clocks -> issue the required written notice -> status, event and audit. If anything
raises, the caller rolls back and the petition is exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases import workflow
from xinfang.cases.attachments import store_bytes
from xinfang.cases.calendar import WorkCalendar
from xinfang.cases.deadlines import STATUTORY, LocalLimit, Rule, clock_state, deadline_for
from xinfang.cases.enums import OrgKind, Role
from xinfang.cases.events import add_event
from xinfang.cases.models import Clock, Document, Notification, Petition, Supervision
from xinfang.cases.notices import NOTICE_TITLES, NoticeKind, render_notice, template_path
from xinfang.cases.workflow import Action, CaseContext, Transition
from xinfang.clock import local_date
from xinfang.errors import InvalidInput, NotFound, PermissionDenied
from xinfang.org.models import OrgUnit, User
from xinfang.org.service import find_unit
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require_petition_visible, sees_everything

BUREAU_CODE = "xfj"
# Actions the handling body takes: the actor must belong to it.
HANDLING_BODY_ACTIONS = frozenset({Action.ACCEPT, Action.OBJECT, Action.EXTEND, Action.REPLY})
REVIEWING_BODY_ACTIONS = frozenset({Action.REVIEW_REPLY, Action.RECHECK_REPLY})
SUPERVISION_DAYS = {"普通": 10, "黄牌": 5, "红牌": 3}
SUPERVISION_CODES = {"普通": "normal", "黄牌": "yellow", "红牌": "red"}


@dataclass(frozen=True)
class ProcedureContext:
    """What steps need besides the petition: the work calendar, local limits, where documents go."""

    calendar: WorkCalendar
    documents_dir: Path
    local_limits: Mapping[Rule, LocalLimit] = field(default_factory=dict)
    template_dir: Path | None = None
    # Called after every step in the same transaction (the dispatch slice learns from human forwarding there).
    after_step: Callable[[Session, Actor, Petition, Transition, datetime], None] | None = None
    # Called after `workflow.check` and before any effect; it may refuse the step by raising InvalidTransition (the
    # prevention slice refuses a lead department's reply while co-handling parts are missing).
    before_step: Callable[[Session, Actor, Petition, Transition, datetime], None] | None = None


# ---- loading and context ------------------------------------------------------------------------------------


def lock_petition(session: Session, petition_id: int) -> Petition:
    """Row lock on PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE); the version column catches the rest."""
    petition = session.execute(
        select(Petition).where(Petition.id == petition_id).with_for_update()
    ).scalar_one_or_none()
    if petition is None:
        raise NotFound("信访件不存在或无权查看", code="petition.not_found")
    return petition


def open_clocks(petition: Petition) -> list[Clock]:
    return [c for c in petition.clocks if c.closed_on is None]


def case_context(petition: Petition, today: date) -> CaseContext:
    clocks = open_clocks(petition)
    return CaseContext(
        today=today,
        open_clocks={Rule(c.rule): c.due_on for c in clocks},
        has_extension=any(c.rule == Rule.HANDLE and c.extension_days > 0 for c in petition.clocks),
        is_repeat_of_final=petition.repeats_final_id is not None,
        has_mediation_agreement=any(e.kind == workflow.MEDIATION_SUCCEEDED_EVENT for e in petition.events),
    )


def clock_status(clock: Clock, today: date) -> str:
    return clock_state(clock.start_on, clock.due_on, today).value


def available_actions(petition: Petition, actor: Actor, today: date) -> list[workflow.Step]:
    """What the UI may offer this actor now: the table's answer, narrowed by the actor's unit."""
    steps = workflow.available_actions(petition.status, actor.role, case_context(petition, today))
    return [s for s in steps if _unit_allows(s.action, petition, actor)]


# ---- the step -------------------------------------------------------------------------------------------------


def take_action(
    session: Session,
    *,
    actor: Actor,
    petition_id: int,
    action: str,
    payload: Mapping[str, Any] | None,
    now: datetime,
    ctx: ProcedureContext,
) -> Petition:
    petition = lock_petition(session, petition_id)
    return act_on(session, actor=actor, petition=petition, action=action, payload=payload, now=now, ctx=ctx)


def act_on(
    session: Session,
    *,
    actor: Actor,
    petition: Petition,
    action: str,
    payload: Mapping[str, Any] | None,
    now: datetime,
    ctx: ProcedureContext,
) -> Petition:
    """One step on a petition the caller holds: locked by take_action, or created in the caller's transaction."""
    require_petition_visible(actor, petition)
    step = workflow.step_for(action)
    today = local_date(now)
    transition = workflow.check(
        petition.status, step.action, actor.role, payload, case_context(petition, today)
    )
    _require_unit(step.action, petition, actor)
    if ctx.before_step is not None:
        ctx.before_step(session, actor, petition, transition, now)
    details = _apply_effects(session, petition=petition, transition=transition, actor=actor, now=now, ctx=ctx)
    _move_clocks(session, petition=petition, transition=transition, today=today, ctx=ctx)
    document = _issue_notice(session, petition=petition, transition=transition, actor=actor, now=now, ctx=ctx)
    workflow.ensure_notice(transition, document.kind if document else None)
    petition.status = transition.to_status.value
    summary = workflow.TABLE[transition.action].label + (
        f":{details.pop('summary')}" if "summary" in details else ""
    )
    event_details = {"action": transition.action.value, **_safe_payload(transition.payload), **details}
    if document is not None:
        event_details["document_id"] = document.id
    add_event(
        session,
        petition=petition,
        kind=transition.action.value,
        actor=actor,
        at=now,
        summary=summary,
        details=event_details,
    )
    audit.record(
        session,
        actor=actor,
        action=f"petition.{transition.action.value}",
        at=now,
        object_type="petition",
        object_id=petition.id,
        details={"from": transition.from_status.value, "to": transition.to_status.value},
    )
    if ctx.after_step is not None:
        ctx.after_step(session, actor, petition, transition, now)
    session.flush()
    return petition


def _safe_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in payload.items()}


def _unit_allows(action: Action, petition: Petition, actor: Actor) -> bool:
    if actor.is_system:
        return True
    if action in HANDLING_BODY_ACTIONS:
        return petition.department_id is not None and actor.org_unit_id == petition.department_id
    if action in REVIEWING_BODY_ACTIONS:
        reviewer = petition.reviewing_unit_id
        return reviewer is not None and actor.org_unit_id == reviewer
    if actor.role == Role.REGISTRAR:
        return sees_everything(actor)
    return True


def _require_unit(action: Action, petition: Petition, actor: Actor) -> None:
    if not _unit_allows(action, petition, actor):
        who = "复查/复核机关" if action in REVIEWING_BODY_ACTIONS else "承办单位"
        raise PermissionDenied(
            f"只有{who}的工作人员可以执行此操作", code="workflow.wrong_unit", action=action.value
        )


# ---- effects of each action -----------------------------------------------------------------------------------


def _unit_by_code(session: Session, code: str, *, what: str) -> OrgUnit:
    unit = find_unit(session, code)
    if unit is None or unit.kind == OrgKind.VILLAGE:
        raise InvalidInput(f"未知的{what}:{code}", code="workflow.unknown_unit", unit=code)
    return unit


def _apply_effects(
    session: Session,
    *,
    petition: Petition,
    transition: Transition,
    actor: Actor,
    now: datetime,
    ctx: ProcedureContext,
) -> dict[str, Any]:
    action, payload = transition.action, transition.payload
    if action in (Action.FORWARD, Action.ASSIGN):
        unit = _unit_by_code(session, str(payload["department"]), what="单位")
        if petition.accused_unit_id == unit.id:
            raise InvalidInput("检举控告事项不得转送给被检举控告的单位", code="workflow.forward_to_accused")
        petition.department = unit
        return {"summary": unit.name, "department": unit.code}
    if action == Action.OBJECT:
        previous = petition.department
        petition.department = None
        return {"summary": payload["reason"], "department": previous.code if previous else None}
    if action in (Action.REPLY, Action.REVIEW_REPLY, Action.RECHECK_REPLY):
        petition.outcome = str(payload["outcome"])
        return {"summary": petition.outcome}
    if action in (Action.REQUEST_REVIEW, Action.REQUEST_RECHECK):
        code = str(payload.get("reviewing_body") or BUREAU_CODE)
        petition.reviewing_unit = _unit_by_code(session, code, what="复查/复核机关")
        return {"reviewing_body": code}
    if action == Action.EVALUATE:
        petition.evaluation, petition.evaluated_at = str(payload["evaluation"]), now
        session.flush()
        if petition.evaluation == "不满意":
            _notify_unit(
                session,
                unit_id=petition.department_id,
                petition=petition,
                kind="dissatisfied",
                now=now,
                message=f"信访人对{petition.number}的处理不满意,可在期限内请求复查",
            )
        return {"summary": petition.evaluation}
    if action == Action.SUPERVISE:
        return _supervise(session, petition=petition, payload=payload, actor=actor, now=now, ctx=ctx)
    if action == Action.TAKE_CHARGE:
        petition.leader_id = actor.user_id
        return {"summary": actor.username}
    if action == Action.CONCLUDE:
        petition.concluded_at = now
    if action == Action.SETTLE:
        petition.outcome, petition.concluded_at = "调解成功", now
        return {"summary": str(payload["agreement"])}
    return {}


def _supervise(
    session: Session,
    *,
    petition: Petition,
    payload: Mapping[str, Any],
    actor: Actor,
    now: datetime,
    ctx: ProcedureContext,
) -> dict[str, Any]:
    level = str(payload.get("level") or "普通")
    today = local_date(now)
    due = payload.get("due_on") or ctx.calendar.workday_on_or_after(
        today + timedelta(days=SUPERVISION_DAYS[level])
    )
    if due < today:
        raise InvalidInput("督办期限不能早于今天", code="workflow.supervision_due_past")
    notified = [u.code for u in (petition.department,) if u is not None]
    if level in ("黄牌", "红牌"):
        notified.append(BUREAU_CODE)
    if level == "红牌" and petition.leader_id:
        notified.append(f"user:{petition.leader_id}")
    session.add(
        Supervision(
            petition=petition,
            level=SUPERVISION_CODES[level],
            instruction=str(payload["instruction"]),
            unit_id=petition.department_id,
            due_on=due,
            issued_by_id=actor.user_id,
            issued_at=now,
            notified=notified,
        )
    )
    message = f"{level}督办:{petition.number},请于{due.isoformat()}前报告办理情况"
    _notify_unit(
        session,
        unit_id=petition.department_id,
        petition=petition,
        kind=f"supervision_{level}",
        now=now,
        message=message,
    )
    if level == "红牌":
        for leader in session.execute(select(User).where(User.role == Role.LEADER.value)).scalars():
            _notify_user(
                session,
                user_id=leader.id,
                petition=petition,
                kind="supervision_red",
                now=now,
                message=message,
            )
    return {"summary": f"{level},期限{due.isoformat()}", "level": level, "due_on": due.isoformat()}


def _notify_unit(
    session: Session, *, unit_id: int | None, petition: Petition, kind: str, now: datetime, message: str
) -> None:
    if unit_id is None:
        return
    session.add(
        Notification(
            unit_id=unit_id,
            petition_id=petition.id,
            kind=kind,
            message=message,
            created_at=now,
            dedup_key=f"{kind}:{petition.id}:{unit_id}:{now.isoformat()}",
        )
    )


def _notify_user(
    session: Session, *, user_id: int, petition: Petition, kind: str, now: datetime, message: str
) -> None:
    session.add(
        Notification(
            user_id=user_id,
            petition_id=petition.id,
            kind=kind,
            message=message,
            created_at=now,
            dedup_key=f"{kind}:{petition.id}:user{user_id}:{now.isoformat()}",
        )
    )


# ---- clocks ---------------------------------------------------------------------------------------------------


def _bureau(session: Session) -> OrgUnit | None:
    """The county bureau, looked up once per session: every forward opens a clock bound to it."""
    unit = session.info.get("bureau_unit")
    if unit is None:
        unit = find_unit(session, BUREAU_CODE)
        if unit is not None:
            session.info["bureau_unit"] = unit
    return unit


def _clock_unit(rule: Rule, petition: Petition, session: Session) -> OrgUnit | None:
    """The body a clock binds (relationships, not ids: a unit set in this step has no id on the petition yet)."""
    if STATUTORY[rule].binds_petitioner:
        return None
    if rule in (Rule.REVIEW, Rule.RECHECK):
        return petition.reviewing_unit
    if rule == Rule.FORWARD:
        return _bureau(session)
    return petition.department


def open_clock(
    session: Session,
    *,
    petition: Petition,
    rule: Rule,
    start: date,
    ctx: ProcedureContext,
    extension_days: int = 0,
    excluded_days: int = 0,
) -> Clock:
    deadline = deadline_for(
        rule,
        start,
        ctx.calendar,
        local_limits=ctx.local_limits,
        extension_days=extension_days,
        excluded_days=excluded_days,
    )
    clock = Clock(
        petition=petition,
        rule=rule.value,
        unit=_clock_unit(rule, petition, session),
        start_on=start,
        due_on=deadline.due_on,
        statutory_due_on=deadline.statutory_due_on,
        is_provisional=deadline.is_provisional,
        binds_petitioner=STATUTORY[rule].binds_petitioner,
        extension_days=extension_days,
        excluded_days=excluded_days,
    )
    session.add(clock)
    return clock


def _move_clocks(
    session: Session, *, petition: Petition, transition: Transition, today: date, ctx: ProcedureContext
) -> None:
    closing = {c.rule: c for c in open_clocks(petition) if Rule(c.rule) in transition.closes}
    if transition.action == Action.RECHECK_REPLY and transition.payload.get("hearing_days"):
        _exclude_hearing(closing.get(Rule.RECHECK.value), int(transition.payload["hearing_days"]), ctx)
    for clock in closing.values():
        clock.closed_on, clock.closed_by_action = today, transition.action.value
    for rule in transition.opens:
        if transition.action == Action.EXTEND and rule == Rule.HANDLE:
            original = closing[Rule.HANDLE.value]
            open_clock(
                session,
                petition=petition,
                rule=rule,
                start=original.start_on,
                ctx=ctx,
                extension_days=transition.extension_days,
            )
        else:
            open_clock(session, petition=petition, rule=rule, start=today, ctx=ctx)


def _exclude_hearing(clock: Clock | None, days: int, ctx: ProcedureContext) -> None:
    """A hearing's days do not count against the re-review period: recompute its due date before judging it."""
    if clock is None:
        return
    deadline = deadline_for(
        Rule.RECHECK, clock.start_on, ctx.calendar, local_limits=ctx.local_limits, excluded_days=days
    )
    clock.due_on, clock.statutory_due_on, clock.excluded_days = (
        deadline.due_on,
        deadline.statutory_due_on,
        days,
    )


# ---- written notices ------------------------------------------------------------------------------------------


def _issue_notice(
    session: Session,
    *,
    petition: Petition,
    transition: Transition,
    actor: Actor,
    now: datetime,
    ctx: ProcedureContext,
) -> Document | None:
    kind = transition.notice
    if kind is None:
        return None
    fields = notice_fields(
        session, petition=petition, transition=transition, actor=actor, today=local_date(now)
    )
    data = render_notice(kind, fields, template_dir=_template_folder(kind, ctx.template_dir))
    digest = store_bytes(ctx.documents_dir, data)
    doc = Document(
        petition=petition,
        kind=kind.value,
        title=NOTICE_TITLES[kind],
        action=transition.action.value,
        sha256=digest,
        size=len(data),
        created_at=now,
        actor_id=actor.user_id,
        unit_id=actor.org_unit_id,
    )
    session.add(doc)
    session.flush()
    return doc


def _template_folder(kind: NoticeKind, folder: Path | None) -> Path | None:
    """The deployment's folder if it holds this kind (an administrator replaced it), else the packaged default.

    Looked up at every notice, not once per process: a template replaced through any app instance applies to the
    next notice on every instance that shares the folder."""
    return folder if folder is not None and template_path(kind, folder).is_file() else None


def notice_fields(
    session: Session, *, petition: Petition, transition: Transition, actor: Actor, today: date
) -> dict[str, Any]:
    """Everything a notice may need, from the case and the step's payload. Never ID numbers or phones."""
    payload = transition.payload
    issuer = session.get(OrgUnit, actor.org_unit_id) if actor.org_unit_id else None
    demand = ((petition.analysis or {}).get("demand") or {}).get("text")
    fields: dict[str, Any] = {
        "issuing_body": issuer.name if issuer else "县信访局",
        "number": petition.number,
        "petitioner_name": petition.petitioners[0].name if petition.petitioners else "信访人",
        "issued_on": today,
        "received_on": local_date(petition.received_at),
        "matter": petition.title,
        "accepted_on": today,
        "request": payload.get("request") or demand or petition.title,
    }
    for name in ("reason", "competent_body", "legal_channel", "facts", "outcome", "opinion", "legal_basis"):
        if payload.get(name):
            fields[name] = payload[name]
    if transition.action == Action.EXTEND:
        extended = next(c for c in open_clocks(petition) if c.rule == Rule.HANDLE.value)  # opened just before
        fields["extension_days"] = transition.extension_days
        fields["new_due_on"] = extended.due_on
    if transition.action == Action.REVIEW_REPLY:
        fields["review_requested_on"] = _last_event_day(petition, Action.REQUEST_REVIEW) or today
    if transition.action == Action.RECHECK_REPLY:
        fields["recheck_requested_on"] = _last_event_day(petition, Action.REQUEST_RECHECK) or today
    if transition.notice == NoticeKind.FINAL_REFUSAL and petition.repeats_final_id:
        final = session.get(Petition, petition.repeats_final_id)
        fields["final_body"] = final.reviewing_unit.name if final and final.reviewing_unit else "复核机关"
        fields["final_on"] = _last_event_day(final, Action.RECHECK_REPLY) if final else today
    return fields


def _last_event_day(petition: Petition | None, action: Action) -> date | None:
    if petition is None:
        return None
    days = [local_date(e.at) for e in petition.events if e.kind == action.value]
    return days[-1] if days else None
