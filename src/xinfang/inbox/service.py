"""The inboxes: which petitions wait on the actor (to accept, in handling, due soon, overdue, supervised, returned).

Every box is a query over the petitions the actor may see (`scope_petitions`), so a department's handler sees only
their unit's work and a county clerk the whole county. Clock boxes look at open statutory duty clocks (a
petitioner's own windows, such as the time to object, are not work); the due-soon test is the one the case page
shows (`deadlines.clock_state`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from xinfang.cases.deadlines import ClockState, clock_state, is_duty
from xinfang.cases.enums import Role, Status
from xinfang.cases.models import Clock, Petition, Supervision
from xinfang.cases.service import PetitionFilter, apply_filters
from xinfang.errors import InvalidInput
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, scope_petitions


class Box(StrEnum):
    TO_ACCEPT = "to_accept"
    HANDLING = "handling"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    SUPERVISED = "supervised"
    RETURNED = "returned"
    ALL = "all"


BOX_LABELS: dict[Box, str] = {
    Box.TO_ACCEPT: "待受理",
    Box.HANDLING: "办理中",
    Box.DUE_SOON: "临期",
    Box.OVERDUE: "超期",
    Box.SUPERVISED: "督办",
    Box.RETURNED: "退回/待分派",
    Box.ALL: "全部",
}

TO_ACCEPT = (Status.FORWARDED, Status.ASSIGNED)
HANDLING = (Status.ACCEPTED, Status.EXTENDED, Status.REVIEW_REQUESTED, Status.RECHECK_REQUESTED)
RETURNED = (Status.PENDING_REVIEW, Status.REGISTERED)

# The boxes each role works from, first = where the inbox opens.
ROLE_BOXES: dict[Role, tuple[Box, ...]] = {
    Role.REGISTRAR: (Box.RETURNED, Box.TO_ACCEPT, Box.DUE_SOON, Box.OVERDUE, Box.SUPERVISED, Box.ALL),
    Role.HANDLER: (Box.TO_ACCEPT, Box.HANDLING, Box.DUE_SOON, Box.OVERDUE, Box.SUPERVISED, Box.ALL),
    Role.SUPERVISOR: (Box.OVERDUE, Box.DUE_SOON, Box.SUPERVISED, Box.HANDLING, Box.TO_ACCEPT, Box.ALL),
    Role.LEADER: (Box.OVERDUE, Box.SUPERVISED, Box.DUE_SOON, Box.HANDLING, Box.ALL),
    Role.ADMIN: (
        Box.RETURNED,
        Box.TO_ACCEPT,
        Box.HANDLING,
        Box.DUE_SOON,
        Box.OVERDUE,
        Box.SUPERVISED,
        Box.ALL,
    ),
}


@dataclass(frozen=True)
class InboxPage:
    box: Box
    rows: list[Petition]
    total: int
    due: dict[int, tuple[date, str]]  # petition id -> (earliest open duty due date, its state)


def parse_box(value: str | None, role: Role) -> Box:
    if not value:
        return ROLE_BOXES[role][0]
    try:
        return Box(value)
    except ValueError as exc:
        raise InvalidInput(f"未知的收件箱:{value}", code="inbox.unknown_box", box=value) from exc


def _open_duty_clocks(session: Session, actor: Actor) -> list[tuple[int, date, date, str]]:
    q = (
        select(Clock.petition_id, Clock.start_on, Clock.due_on, Clock.rule)
        .join(Petition, Petition.id == Clock.petition_id)
        .where(Clock.closed_on.is_(None), Clock.binds_petitioner.is_(False))
    )
    q = scope_petitions(q, actor)
    return [(pid, s, d, r) for pid, s, d, r in session.execute(q) if is_duty(r)]


def _clock_ids(session: Session, actor: Actor, today: date, state: ClockState) -> set[int]:
    return {
        pid
        for pid, start, due, _rule in _open_duty_clocks(session, actor)
        if clock_state(start, due, today) == state
    }


def _box_query(session: Session, actor: Actor, box: Box, today: date) -> Select[Any]:
    q = scope_petitions(select(Petition), actor)
    if box == Box.TO_ACCEPT:
        return q.where(Petition.status.in_([s.value for s in TO_ACCEPT]))
    if box == Box.HANDLING:
        return q.where(Petition.status.in_([s.value for s in HANDLING]))
    if box == Box.RETURNED:
        return q.where(Petition.status.in_([s.value for s in RETURNED]))
    if box in (Box.DUE_SOON, Box.OVERDUE):
        state = ClockState.DUE_SOON if box == Box.DUE_SOON else ClockState.OVERDUE
        return q.where(Petition.id.in_(_clock_ids(session, actor, today, state) or {-1}))
    if box == Box.SUPERVISED:
        open_supervision = select(Supervision.petition_id).where(Supervision.responded_at.is_(None))
        return q.where(Petition.id.in_(open_supervision))
    return q


def list_inbox(
    session: Session,
    *,
    actor: Actor,
    box: Box,
    filters: PetitionFilter,
    today: date,
    page: int = 1,
    page_size: int = 30,
) -> InboxPage:
    """One page of a box, newest first, with each petition's nearest open duty deadline."""
    require(actor, "petition.read")
    page = max(page, 1)
    page_size = min(max(page_size, 1), 5000)
    q = apply_filters(session, _box_query(session, actor, box, today), filters)
    total = session.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar_one()
    rows = list(
        session.execute(
            q.options(selectinload(Petition.department))
            .order_by(Petition.received_at.desc(), Petition.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).scalars()
    )
    return InboxPage(box=box, rows=rows, total=total, due=nearest_due(session, [p.id for p in rows], today))


def nearest_due(session: Session, petition_ids: list[int], today: date) -> dict[int, tuple[date, str]]:
    if not petition_ids:
        return {}
    q = select(Clock.petition_id, Clock.start_on, Clock.due_on, Clock.rule).where(
        Clock.petition_id.in_(petition_ids), Clock.closed_on.is_(None), Clock.binds_petitioner.is_(False)
    )
    out: dict[int, tuple[date, str]] = {}
    for pid, start, due, rule in session.execute(q):
        if not is_duty(rule):
            continue
        if pid not in out or due < out[pid][0]:
            out[pid] = (due, clock_state(start, due, today).value)
    return out


def box_counts(session: Session, *, actor: Actor, boxes: tuple[Box, ...], today: date) -> dict[Box, int]:
    """How many petitions each box holds (the tabs' badges); the clock boxes share one pass over the clocks."""
    require(actor, "petition.read")
    counts: dict[Box, int] = {}
    states: dict[int, set[ClockState]] = {}
    if Box.DUE_SOON in boxes or Box.OVERDUE in boxes:
        for pid, start, due, _rule in _open_duty_clocks(session, actor):
            states.setdefault(pid, set()).add(clock_state(start, due, today))
    for box in boxes:
        if box == Box.ALL:
            continue
        if box in (Box.DUE_SOON, Box.OVERDUE):
            want = ClockState.DUE_SOON if box == Box.DUE_SOON else ClockState.OVERDUE
            counts[box] = sum(1 for s in states.values() if want in s)
            continue
        q = _box_query(session, actor, box, today)
        counts[box] = session.execute(
            select(func.count()).select_from(q.order_by(None).subquery())
        ).scalar_one()
    return counts
