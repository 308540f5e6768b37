"""Accountability figures per unit or per township for a period: the "三率" and the signs of poor handling.

Definitions (stated so that a department can check its own figures):
- 及时受理率 timely acceptance: of the acceptance clocks (告知受理, 15 days) that started in the period and are due
  or closed, the share closed (accepted, objected, refused or diverted) by their due date.
- 按期办结率 on-time conclusion: the same over the handling clocks (60 days, +30 with approval).
- 满意率 satisfaction: of the evaluations recorded in the period, the share 满意 or 基本满意.
- 超期件数 overdue: the unit's clocks that closed late in the period, plus those open and past due today.
- 异议次数 objections raised by the unit in the period; 转送次数/件 forwards and assignments per petition the
  unit received in the period (more than one means the matter bounced).
- 重复信访率 repeat rate: of the petitions placed with the unit (or located in the township) in the period, the
  share that repeat an earlier petition of the same person.
- 访调诉 referrals made in the period (to people's mediation or the court) and where they stand now: 移交件数, 调解成功
  (调解成功 or 已司法确认), 调解失败, 已立案, 退回. A referral counts for the petition's responsible unit (the referring
  unit while the petition has none) or the petition's township. Counted in SQL by `referrals.service.counts_query`,
  the same query as /api/referrals/stats.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from xinfang.cases.deadlines import Rule, is_duty
from xinfang.cases.enums import OrgKind
from xinfang.cases.models import Clock, Event, Petition
from xinfang.clock import CHINA_TZ
from xinfang.dispatch.models import SAME_PERSON_KINDS, PetitionLink
from xinfang.org.models import OrgUnit
from xinfang.referrals.enums import Outcome
from xinfang.referrals.models import Referral
from xinfang.referrals.service import counts_query

SATISFIED = ("满意", "基本满意")
DUTY_RULES = tuple(r.value for r in Rule if is_duty(r))  # the clocks whose lateness is overdue work
FINAL_STATUSES = ("concluded", "refused", "diverted", "informed", "recheck_replied")


@dataclass
class Figures:
    key: str
    name: str
    petitions: int = 0
    accept_due: int = 0
    accept_on_time: int = 0
    handle_due: int = 0
    handle_on_time: int = 0
    evaluated: int = 0
    satisfied: int = 0
    overdue: int = 0
    objections: int = 0
    transfers: int = 0
    repeats: int = 0
    referred: int = 0
    referral_mediated: int = 0
    referral_failed: int = 0
    referral_filed: int = 0
    referral_returned: int = 0

    @staticmethod
    def _rate(num: int, den: int) -> float | None:
        return round(num / den, 4) if den else None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            timely_acceptance_rate=self._rate(self.accept_on_time, self.accept_due),
            on_time_conclusion_rate=self._rate(self.handle_on_time, self.handle_due),
            satisfaction_rate=self._rate(self.satisfied, self.evaluated),
            transfers_per_case=self._rate(self.transfers, self.petitions),
            repeat_rate=self._rate(self.repeats, self.petitions),
        )
        return d


COLUMNS = (
    ("name", "单位/乡镇"),
    ("petitions", "信访件数"),
    ("timely_acceptance_rate", "及时受理率"),
    ("on_time_conclusion_rate", "按期办结率"),
    ("satisfaction_rate", "满意率"),
    ("overdue", "超期件数"),
    ("objections", "异议次数"),
    ("transfers_per_case", "转送次数/件"),
    ("repeat_rate", "重复信访率"),
    ("referred", "移交调解诉讼"),
    ("referral_mediated", "调解成功"),
    ("referral_failed", "调解失败"),
    ("referral_filed", "已立案"),
    ("referral_returned", "退回"),
)
# Which Figures field counts the referrals of each outcome (open referrals count only as referred).
REFERRAL_FIELDS = {
    Outcome.RESOLVED.value: "referral_mediated",
    Outcome.FAILED.value: "referral_failed",
    Outcome.FILED.value: "referral_filed",
    Outcome.RETURNED.value: "referral_returned",
}


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local calendar days [start, end] as UTC instants [from, to)."""
    lo = datetime(start.year, start.month, start.day, tzinfo=CHINA_TZ)
    hi = datetime(end.year, end.month, end.day, tzinfo=CHINA_TZ)
    from datetime import timedelta

    return lo, hi + timedelta(days=1)


def accountability(
    session: Session,
    *,
    start: date,
    end: date,
    today: date,
    by: str = "department",
) -> list[dict[str, Any]]:
    """One row of figures per unit (by="department") or per township (by="township").

    Every figure is a GROUP BY in the database over the period's rows only (petitions received or evaluated in it,
    clocks started or closed in it or open and past due, events in it); Python only puts the groups in rows. A
    row exists for every unit (or township) with any figure in the period, and for every one that any statutory
    duty clock binds (or whose petitions have one) whatever its dates, with zeros then: that set is read with one
    indexed probe per unit rather than from every clock of the database (which took 92 s at a million petitions
    when every clock was loaded into Python)."""
    if by not in ("department", "township"):
        raise ValueError("by must be department or township")
    units = _Units.read(session)
    rows: dict[str, Figures] = {}

    def row(key: str | None) -> Figures | None:
        if key is None:
            return None
        if key not in rows:
            rows[key] = Figures(key=key, name=units.name_of(key))
        return rows[key]

    lo, hi = _bounds(start, end)
    code = units.code_of if by == "department" else _same
    for key, n, satisfied in session.execute(_evaluations_query(by, lo, hi)):
        r = row(code(key))
        if r:
            r.evaluated += int(n)
            r.satisfied += int(satisfied or 0)
    _add_petitions(session, row, code, by=by, lo=lo, hi=hi)
    _add_clocks(session, row, code, by=by, start=start, end=end, today=today)
    for key, n, objections in session.execute(_events_query(by, lo, hi)):
        r = row(key)
        if r:
            r.objections += int(objections or 0)
            r.transfers += int(n) - int(objections or 0)
    _add_referrals(session, row, by=by, units=units.by_id, lo=lo, hi=hi)
    ordered = sorted(rows.values(), key=lambda f: (-f.petitions, f.key))
    if by == "township":
        ordered = [f for f in ordered if units.kind_of(f.key) == OrgKind.TOWNSHIP]
    return [f.to_dict() for f in ordered]


@dataclass(frozen=True)
class _Units:
    """The organisation's id → code and code → (name, kind), read as plain rows (a province has ~20,000 units)."""

    by_id: dict[int, str]
    by_code: dict[str, tuple[str, str]]

    @classmethod
    def read(cls, session: Session) -> _Units:
        by_id: dict[int, str] = {}
        by_code: dict[str, tuple[str, str]] = {}
        for uid, code, name, kind in session.execute(
            select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind)
        ):
            by_id[uid] = code
            by_code[code] = (name, kind)
        return cls(by_id, by_code)

    def code_of(self, unit_id: Any) -> str | None:
        return self.by_id.get(unit_id) if unit_id is not None else None

    def name_of(self, key: str) -> str:
        return self.by_code[key][0] if key in self.by_code else key

    def kind_of(self, key: str) -> str | None:
        return self.by_code[key][1] if key in self.by_code else None


def _same(key: Any) -> Any:
    return key


def _count_if(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _petition_key(by: str) -> Any:
    """What a petition counts for: its responsible unit (an id, mapped to the unit's code) or its township."""
    return Petition.department_id if by == "department" else Petition.township_code


def _add_petitions(session: Session, row: Any, code: Any, *, by: str, lo: datetime, hi: datetime) -> None:
    """信访件数 per key of the petitions received in [lo, hi), and how many of them repeat an earlier petition of the
    same person (a repeat link of kind same_person or both, from the dispatch slice's repeat detection)."""
    key = _petition_key(by)
    repeat = exists().where(PetitionLink.petition_id == Petition.id, PetitionLink.kind.in_(SAME_PERSON_KINDS))
    q = (
        select(key, func.count(), func.sum(case((repeat, 1), else_=0)))
        .where(Petition.received_at >= lo, Petition.received_at < hi)
        .group_by(key)
    )
    for k, n, repeats in session.execute(q):
        r = row(code(k))
        if r:
            r.petitions += int(n)
            r.repeats += int(repeats or 0)


def _clock_key(by: str) -> Any:
    """Whom a clock counts for: the unit it binds (department) or its petition's township (joined: for a period's
    clocks PostgreSQL chooses between probing each petition and hashing the table, whichever is cheaper)."""
    return Clock.unit_id if by == "department" else Petition.township_code


def _bound_keys(by: str) -> Any:
    """The units (ids) that any non-petitioner clock binds, or the townships (codes) whose petitions have one: each
    is a row even with no figure in the period. One indexed probe per unit (the first such clock, LIMIT 1) rather
    than a pass over every clock; written as a scalar subquery because PostgreSQL turns an EXISTS into a hash join
    over all clocks and petitions."""
    binding = Clock.binds_petitioner.is_(False)
    if by == "department":
        first = select(Clock.id).where(Clock.unit_id == OrgUnit.id, binding)
        return select(OrgUnit.id).where(first.limit(1).scalar_subquery().is_not(None))
    first = (
        select(Clock.id)
        .join(Petition, Petition.id == Clock.petition_id)
        .where(Petition.township_code == OrgUnit.code, binding)
    )
    return select(OrgUnit.code).where(
        OrgUnit.kind == OrgKind.TOWNSHIP.value, first.limit(1).scalar_subquery().is_not(None)
    )


def _clocks_query(by: str, *, start: date, end: date, today: date) -> Any:
    """Per key: accept_due, accept_on_time, handle_due, handle_on_time, overdue (the definitions at the top), over
    the clocks that can count in the period: started in it, closed in it, or open and past due today (each arm
    indexed: ix_clocks_start_on, ix_clocks_open_due)."""
    c = Clock
    started_in = c.start_on.between(start, end)
    closed_in = c.closed_on.between(start, end)
    open_overdue = and_(c.closed_on.is_(None), c.due_on < today)
    due_or_closed = or_(c.closed_on.is_not(None), c.due_on < today)
    on_time = and_(c.closed_on.is_not(None), c.closed_on <= c.due_on)
    accept = and_(started_in, due_or_closed, c.rule == Rule.ACCEPT_NOTICE.value)
    not_extension = or_(c.closed_by_action.is_(None), c.closed_by_action != "extend")
    handle = and_(started_in, due_or_closed, c.rule == Rule.HANDLE.value, not_extension)
    late_closed = and_(c.closed_on.is_not(None), c.closed_on > c.due_on, closed_in)
    flags = (
        accept,
        and_(accept, on_time),
        handle,
        and_(handle, on_time),
        and_(c.rule.in_(DUTY_RULES), or_(late_closed, open_overdue)),
    )
    key = _clock_key(by)
    q = select(key, *(_count_if(f) for f in flags))
    q = q.where(c.binds_petitioner.is_(False), or_(started_in, closed_in, open_overdue))
    if by == "township":
        q = q.join(Petition, Petition.id == c.petition_id)
    return q.group_by(key)


def _add_clocks(
    session: Session, row: Any, code: Any, *, by: str, start: date, end: date, today: date
) -> None:
    for k in session.execute(_bound_keys(by)).scalars():
        row(code(k))
    for k, accept_due, accept_on_time, handle_due, handle_on_time, overdue in session.execute(
        _clocks_query(by, start=start, end=end, today=today)
    ):
        r = row(code(k))
        if r is None:
            continue
        r.accept_due += int(accept_due or 0)
        r.accept_on_time += int(accept_on_time or 0)
        r.handle_due += int(handle_due or 0)
        r.handle_on_time += int(handle_on_time or 0)
        r.overdue += int(overdue or 0)


def _evaluations_query(by: str, lo: datetime, hi: datetime) -> Any:
    """Per key: evaluations recorded in [lo, hi) and how many of them 满意 or 基本满意 (index
    ix_petitions_evaluated_at)."""
    key = _petition_key(by)
    return (
        select(key, func.count(), _count_if(Petition.evaluation.in_(SATISFIED)))
        .where(Petition.evaluated_at >= lo, Petition.evaluated_at < hi)
        .group_by(key)
    )


def _events_query(by: str, lo: datetime, hi: datetime) -> Any:
    """Per key: forwards, assignments and objections in [lo, hi) (index ix_events_kind_at), and how many were
    objections. A department is the one the event names (details.department, a unit code); a township is the
    petition's."""
    moves = (Event.at >= lo, Event.at < hi, Event.kind.in_(("forward", "assign", "object")))
    key = Event.details["department"].as_string() if by == "department" else Petition.township_code
    q = select(key, func.count(), _count_if(Event.kind == "object")).where(*moves)
    if by == "township":
        q = q.join(Petition, Petition.id == Event.petition_id)
    return q.group_by(key)


def _add_referrals(
    session: Session, row: Any, *, by: str, units: dict[int, str], lo: datetime, hi: datetime
) -> None:
    """The referral columns: the database counts (grouped by unit or township and outcome); here each group's
    count is put in its column."""
    key: Any
    if by == "department":
        key = func.coalesce(Petition.department_id, Referral.unit_id).label("unit_id")
    else:
        key = Petition.township_code.label("township")
    for key_value, _platform, _status, outcome, n in session.execute(counts_query(lo, hi, key)):
        code = units.get(key_value) if by == "department" else key_value
        r = row(code)
        if r is None:
            continue
        r.referred += n
        field = REFERRAL_FIELDS.get(outcome)
        if field:
            setattr(r, field, getattr(r, field) + n)


# ---- backlog (积案) and buck-passing (推诿扯皮) ---------------------------------------------------------------


def backlog(
    session: Session,
    *,
    now: datetime,
    backlog_days: int,
    repeat_counts: dict[int, int] | None = None,
    min_repeats: int = 2,
) -> list[dict[str, Any]]:
    """Unresolved petitions older than `backlog_days`, or repeated `min_repeats` times or more."""
    from datetime import timedelta

    cutoff = now - timedelta(days=backlog_days)
    counts = repeat_counts or {}
    rows = []
    for p in session.execute(select(Petition).where(Petition.status.not_in(FINAL_STATUSES))).scalars():
        old = p.received_at < cutoff
        repeated = counts.get(p.id, 0) >= min_repeats
        if not (old or repeated):
            continue
        rows.append(
            {
                "id": p.id,
                "number": p.number,
                "title": p.title,
                "status": p.status,
                "department": p.department.name if p.department else None,
                "age_days": (now - p.received_at).days,
                "repeats": counts.get(p.id, 0),
                "leader": p.leader.display_name if p.leader else None,
                "reason": "久拖未结" if old else "重复信访",
            }
        )
    return sorted(rows, key=lambda r: -r["age_days"])


def clearing_rate(session: Session, *, start: datetime, end: datetime, backlog_days: int) -> dict[str, Any]:
    """Of the petitions that were backlog at `start` (older than backlog_days and unresolved), how many were
    concluded by `end`: the 积案化解率."""
    from datetime import timedelta

    cutoff = start - timedelta(days=backlog_days)
    candidates = list(session.execute(select(Petition).where(Petition.received_at < cutoff)).scalars())
    backlog_at_start = [p for p in candidates if p.concluded_at is None or p.concluded_at >= start]
    cleared = [p for p in backlog_at_start if p.concluded_at is not None and p.concluded_at < end]
    n = len(backlog_at_start)
    return {
        "backlog_at_start": n,
        "cleared": len(cleared),
        "clearing_rate": round(len(cleared) / n, 4) if n else None,
    }


def buck_passing(session: Session, *, max_transfers: int) -> list[dict[str, Any]]:
    """Petitions moved around too often: more than `max_transfers` forwards/assignments or objections, or sent back
    and forth between the same two bodies (A → B → A)."""
    moves: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for e in session.execute(
        select(Event)
        .where(Event.kind.in_(("forward", "assign", "object")))
        .order_by(Event.petition_id, Event.id)
    ).scalars():
        moves[e.petition_id].append((e.kind, (e.details or {}).get("department")))
    flagged = []
    for pid, seq in moves.items():
        transfers = sum(k != "object" for k, _ in seq)
        objections = sum(k == "object" for k, _ in seq)
        route = [d for k, d in seq if k != "object" and d]
        ping_pong = any(route[i] == route[i + 2] != route[i + 1] for i in range(len(route) - 2))
        reasons = []
        if transfers > max_transfers:
            reasons.append(f"转送/交办{transfers}次")
        if objections >= max_transfers:
            reasons.append(f"异议{objections}次")
        if ping_pong:
            reasons.append("在同两个单位之间来回退转")
        if reasons:
            flagged.append(
                {
                    "petition_id": pid,
                    "transfers": transfers,
                    "objections": objections,
                    "route": route,
                    "reasons": reasons,
                }
            )
    return flagged
