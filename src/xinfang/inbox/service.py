"""The inboxes: which petitions wait on the actor (to accept, in handling, due soon, overdue, supervised, returned).

Every box is a query over the petitions the actor may see (`scope_petitions`), so a department's handler sees only
their unit's work and a county clerk the whole county. Clock boxes look at open statutory duty clocks (a
petitioner's own windows, such as the time to object, are not work); the due-soon test is the one the case page
shows (`deadlines.clock_state`).

待受理 holds what a unit must decide to accept: matters forwarded or assigned to it, and those it received directly
and registered itself (`registered` with the unit as holder, cases.service.holds_what_it_registers). 退回/待分派
holds the bureau's dispatch queue: pending review, or registered by the bureau and not yet dispatched. 督办 holds
petitions with a 督办 the supervised unit has not answered yet (cases.supervision.respond).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Date, Float, Integer, Select, and_, distinct, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.functions import FunctionElement

from xinfang.cases.deadlines import DUE_SOON_SHARE, ClockState, Rule, clock_state, is_duty
from xinfang.cases.enums import Role, Status
from xinfang.cases.models import Clock, Petition, Supervision
from xinfang.cases.service import PetitionFilter, apply_filters
from xinfang.errors import InvalidInput
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, scope_petitions, sees_everything


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


DUTY_RULES = tuple(r.value for r in Rule if is_duty(r))


class _DaysBetween(FunctionElement[int]):
    """Whole days from the second date to the first: `later - earlier` on PostgreSQL, julianday() on SQLite."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


@compiles(_DaysBetween)
def _days_sqlite(element: _DaysBetween, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(_DaysBetween, "postgresql")
def _days_postgresql(element: _DaysBetween, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"({later} - {earlier})"


def _in_state(state: ClockState, today: date) -> ColumnElement[bool]:
    """`deadlines.clock_state(start_on, due_on, today) == state`, in SQL. The share is compared in floating point
    (float8 / SQLite REAL, the same IEEE arithmetic as Python) so that a clock on the 80% boundary is due soon in
    the inbox exactly when the case page says so."""
    if state == ClockState.OVERDUE:
        return Clock.due_on < today
    length = _DaysBetween(Clock.due_on, Clock.start_on)
    used = _DaysBetween(literal(today, Date()), Clock.start_on)
    return and_(Clock.due_on >= today, or_(length <= 0, used >= literal(DUE_SOON_SHARE, Float()) * length))


def _open_duty_clocks(state: ClockState, today: date) -> tuple[ColumnElement[bool], ...]:
    """Open statutory duty clocks in `state` today (the conditions; ix_clocks_open_by_petition holds every
    column they test, for the open clocks only)."""
    return (
        Clock.closed_on.is_(None),
        Clock.binds_petitioner.is_(False),
        Clock.rule.in_(DUTY_RULES),
        _in_state(state, today),
    )


def _clock_petitions(state: ClockState, today: date) -> Select[Any]:
    """Petitions with an open statutory duty clock in `state` today: a subquery, so the work stays in the
    database. (Collecting the ids in Python first sent a province supervisor's hundreds of thousands of open
    clocks through the app and back as one IN list, beyond PostgreSQL's 65,535 parameters.)"""
    return select(Clock.petition_id).where(*_open_duty_clocks(state, today))


CLOCK_BOXES = {Box.DUE_SOON: ClockState.DUE_SOON, Box.OVERDUE: ClockState.OVERDUE}


def _no_filters(filters: PetitionFilter) -> bool:
    return not any(getattr(filters, f.name) for f in fields(filters))


def _count(
    session: Session, *, actor: Actor, box: Box, today: date, filters: PetitionFilter, query: Select[Any]
) -> int:
    """How many petitions `query` (the box, scoped and filtered) holds.

    A clock box seen whole (a reader who sees every petition, no filter) is counted on the clocks alone: the
    distinct petitions of the matching open clocks — the same number, as every clock belongs to a petition (a
    foreign key), but an index-only scan of the open clocks instead of PostgreSQL's semi-join, which hashed the
    province's whole petitions table (0.1 s at a million petitions, growing with the table, twice per inbox page:
    the list's total and the tab's badge)."""
    state = CLOCK_BOXES.get(box)
    if state is not None and sees_everything(actor) and _no_filters(filters):
        distinct_petitions = func.count(distinct(Clock.petition_id))
        return session.execute(
            select(distinct_petitions).where(*_open_duty_clocks(state, today))
        ).scalar_one()
    return session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()


def _box_query(session: Session, actor: Actor, box: Box, today: date) -> Select[Any]:
    q = scope_petitions(select(Petition), actor)
    if box == Box.TO_ACCEPT:
        received_directly = and_(
            Petition.status == Status.REGISTERED.value, Petition.department_id.is_not(None)
        )
        return q.where(or_(Petition.status.in_([s.value for s in TO_ACCEPT]), received_directly))
    if box == Box.HANDLING:
        return q.where(Petition.status.in_([s.value for s in HANDLING]))
    if box == Box.RETURNED:
        not_dispatched = and_(Petition.status == Status.REGISTERED.value, Petition.department_id.is_(None))
        return q.where(or_(Petition.status == Status.PENDING_REVIEW.value, not_dispatched))
    if box in (Box.DUE_SOON, Box.OVERDUE):
        state = ClockState.DUE_SOON if box == Box.DUE_SOON else ClockState.OVERDUE
        return q.where(Petition.id.in_(_clock_petitions(state, today)))
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
    total = _count(session, actor=actor, box=box, today=today, filters=filters, query=q)
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
    """How many petitions each box holds (the tabs' badges): one COUNT per box, in the database."""
    require(actor, "petition.read")
    counts: dict[Box, int] = {}
    for box in boxes:
        if box == Box.ALL:
            continue
        q = _box_query(session, actor, box, today)
        counts[box] = _count(session, actor=actor, box=box, today=today, filters=PetitionFilter(), query=q)
    return counts
