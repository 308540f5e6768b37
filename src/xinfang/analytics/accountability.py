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
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinfang.cases.deadlines import Rule, is_duty
from xinfang.cases.enums import OrgKind
from xinfang.cases.models import Clock, Event, Petition
from xinfang.clock import CHINA_TZ
from xinfang.org.models import OrgUnit
from xinfang.referrals.enums import Outcome
from xinfang.referrals.models import Referral
from xinfang.referrals.service import counts_query

SATISFIED = ("满意", "基本满意")
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
    repeat_petition_ids: Iterable[int] = (),
) -> list[dict[str, Any]]:
    """One row of figures per unit (by="department") or per township (by="township")."""
    if by not in ("department", "township"):
        raise ValueError("by must be department or township")
    units = {u.id: u for u in session.execute(select(OrgUnit)).scalars()}
    by_code = {u.code: u for u in units.values()}
    rows: dict[str, Figures] = {}

    def row(key: str | None) -> Figures | None:
        if key is None:
            return None
        if key not in rows:
            unit = by_code.get(key)
            rows[key] = Figures(key=key, name=unit.name if unit else key)
        return rows[key]

    lo, hi = _bounds(start, end)
    petitions = list(
        session.execute(
            select(Petition).where(Petition.received_at >= lo, Petition.received_at < hi)
        ).scalars()
    )
    key_of_petition = _petition_key(by, units)
    repeats = set(repeat_petition_ids)
    for p in petitions:
        r = row(key_of_petition(p))
        if r:
            r.petitions += 1
            r.repeats += p.id in repeats

    petition_key = {pid: key for pid, key in _petition_keys(session, by, units)}
    for c in session.execute(select(Clock).where(Clock.binds_petitioner.is_(False))).scalars():
        key = (
            (units[c.unit_id].code if c.unit_id in units else None)
            if by == "department"
            else petition_key.get(c.petition_id)
        )
        r = row(key)
        if r is None:
            continue
        due_or_closed = c.closed_on is not None or c.due_on < today
        started_in = start <= c.start_on <= end
        on_time = c.closed_on is not None and c.closed_on <= c.due_on
        if started_in and due_or_closed and c.rule == Rule.ACCEPT_NOTICE.value:
            r.accept_due += 1
            r.accept_on_time += on_time
        if started_in and due_or_closed and c.rule == Rule.HANDLE.value and c.closed_by_action != "extend":
            r.handle_due += 1
            r.handle_on_time += on_time
        if not is_duty(c.rule):
            continue
        late_closed = c.closed_on is not None and c.closed_on > c.due_on and start <= c.closed_on <= end
        open_overdue = c.closed_on is None and c.due_on < today
        r.overdue += late_closed or open_overdue

    for p in session.execute(
        select(Petition).where(Petition.evaluated_at >= lo, Petition.evaluated_at < hi)
    ).scalars():
        r = row(key_of_petition(p))
        if r:
            r.evaluated += 1
            r.satisfied += p.evaluation in SATISFIED

    for e in session.execute(
        select(Event).where(Event.at >= lo, Event.at < hi, Event.kind.in_(("forward", "assign", "object")))
    ).scalars():
        dept = (e.details or {}).get("department")
        key = dept if by == "department" else petition_key.get(e.petition_id)
        r = row(key)
        if r is None:
            continue
        if e.kind == "object":
            r.objections += 1
        else:
            r.transfers += 1

    _add_referrals(session, row, by=by, units=units, lo=lo, hi=hi)
    ordered = sorted(rows.values(), key=lambda f: (-f.petitions, f.key))
    if by == "township":
        ordered = [f for f in ordered if by_code.get(f.key) and by_code[f.key].kind == OrgKind.TOWNSHIP]
    return [f.to_dict() for f in ordered]


def _add_referrals(
    session: Session, row: Any, *, by: str, units: dict[int, OrgUnit], lo: datetime, hi: datetime
) -> None:
    """The referral columns: the database counts (grouped by unit or township and outcome); here each group's
    count is put in its column."""
    if by == "department":
        key = func.coalesce(Petition.department_id, Referral.unit_id).label("unit_id")
    else:
        key = Petition.township_code.label("township")
    for key_value, _platform, _status, outcome, n in session.execute(counts_query(lo, hi, key)):
        code = (units[key_value].code if key_value in units else None) if by == "department" else key_value
        r = row(code)
        if r is None:
            continue
        r.referred += n
        field = REFERRAL_FIELDS.get(outcome)
        if field:
            setattr(r, field, getattr(r, field) + n)


def _petition_key(by: str, units: dict[int, OrgUnit]) -> Any:
    if by == "department":
        return lambda p: units[p.department_id].code if p.department_id in units else None
    return lambda p: p.township_code


def _petition_keys(session: Session, by: str, units: dict[int, OrgUnit]) -> Iterable[tuple[int, str | None]]:
    if by == "department":
        for pid, dep in session.execute(select(Petition.id, Petition.department_id)):
            yield pid, units[dep].code if dep in units else None
    else:
        yield from session.execute(select(Petition.id, Petition.township_code)).all()


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
