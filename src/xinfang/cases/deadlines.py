"""Statutory periods of the 信访工作条例 as pure date arithmetic on local (China) dates.

Counting rules (regulation.md, "Time limits"; the Civil Code's general rule on periods):
- a period starts on the day *after* the event (receipt, acceptance, service of a reply ...);
- a calendar-day period whose last day is a rest day ends on the next working day;
- a working-day period counts only working days (weekends and holidays skipped, 调休 working weekends counted).

Nothing here reads the clock: callers pass `today` from a Clock and the calendar from `load_calendar()`.

Local limits: a deployment may be stricter than the statute (e.g. "reply within 20 working days"). Limits are
validated when the configuration is loaded (`validate_local_limits`) and, whatever they say, every computed date is
capped by the statutory one, so no configuration can give a body more time than the law does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from xinfang.cases.calendar import WorkCalendar
from xinfang.errors import InvalidInput

MAX_EXTENSION_DAYS = 30
DUE_SOON_SHARE = 0.8
WORKING_WEEK_RATIO = 7 / 5  # calendar days per working day in a week without holidays


class Rule(StrEnum):
    """The statutory periods, by the step they bind."""

    FORWARD = "forward"  # 信访部门登记后转送、交办
    RECEIPT_NOTICE = "receipt_notice"  # 直接收到信访事项的机关告知信访人
    ACCEPT_NOTICE = "accept_notice"  # 收到转送、交办事项的机关告知受理
    OBJECT = "object"  # 收到转送、交办事项的机关认为不属本机关职责的，提出异议
    HANDLE = "handle"  # 受理后办结并出具处理意见书
    EXTEND = "extend"  # 情况复杂的，经批准可延期
    REVIEW_REQUEST_WINDOW = "review_request_window"  # 信访人请求复查的期限
    REVIEW = "review"  # 复查机关提出复查意见
    RECHECK_REQUEST_WINDOW = "recheck_request_window"  # 信访人请求复核的期限
    RECHECK = "recheck"  # 复核机关提出复核意见（听证时间不计入）


class ClockState(StrEnum):
    ON_TIME = "on_time"  # 正常
    DUE_SOON = "due_soon"  # 临期 (80% of the period used)
    OVERDUE = "overdue"  # 超期


CLOCK_STATE_LABELS: dict[ClockState, str] = {
    ClockState.ON_TIME: "正常",
    ClockState.DUE_SOON: "临期",
    ClockState.OVERDUE: "超期",
}


@dataclass(frozen=True)
class Period:
    """One statutory period: its length and unit, who it binds, and what starts it."""

    days: int
    working: bool
    label: str
    starts_at: str
    binds_petitioner: bool = False  # a window for the petitioner, not a duty of a body: never "overdue" work


STATUTORY: Mapping[Rule, Period] = {
    Rule.FORWARD: Period(15, False, "登记转送、交办", "收到信访事项之日"),
    Rule.RECEIPT_NOTICE: Period(15, False, "告知信访人", "收到信访事项之日"),
    Rule.ACCEPT_NOTICE: Period(15, False, "告知受理", "收到转送、交办信访事项之日"),
    Rule.OBJECT: Period(5, True, "提出异议", "收到转送、交办信访事项之日"),
    Rule.HANDLE: Period(60, False, "办结并出具处理意见书", "受理之日"),
    Rule.EXTEND: Period(MAX_EXTENSION_DAYS, False, "延期办理（最多）", "原办理期限届满"),
    Rule.REVIEW_REQUEST_WINDOW: Period(30, False, "请求复查", "收到处理意见书之日", binds_petitioner=True),
    Rule.REVIEW: Period(30, False, "提出复查意见", "收到复查请求之日"),
    Rule.RECHECK_REQUEST_WINDOW: Period(30, False, "请求复核", "收到复查意见书之日", binds_petitioner=True),
    Rule.RECHECK: Period(30, False, "提出复核意见", "收到复核请求之日"),
}

# Periods that are a body's right rather than its duty: once past, the right is lost, but nothing is "overdue".
RIGHTS = frozenset({Rule.OBJECT})


def is_duty(rule: Rule | str) -> bool:
    """Does missing this period count as overdue work (for reminders, the overdue list and accountability)?"""
    rule = Rule(rule)
    return rule not in RIGHTS and not STATUTORY[rule].binds_petitioner


# Only these periods can be lengthened, and only by these means (the regulation allows nothing else).
EXTENDABLE = frozenset({Rule.HANDLE})
HEARING_EXCLUDABLE = frozenset({Rule.RECHECK})


@dataclass(frozen=True)
class LocalLimit:
    """A deployment's own, stricter limit for one rule (e.g. 20 working days to reply)."""

    days: int
    working: bool


@dataclass(frozen=True)
class Deadline:
    """A computed due date with what produced it, so the UI can explain it and flag provisional ones."""

    rule: Rule
    start_on: date
    due_on: date
    statutory_due_on: date
    is_local_limit: bool
    is_provisional: bool  # part of the period lies in a year whose holiday arrangement is not loaded


def due_on(start: date, days: int, *, working: bool, calendar: WorkCalendar) -> date:
    """The last day of a period of `days` days (working days if `working`) counted from the day after `start`."""
    if days < 1:
        raise InvalidInput("期限天数必须为正整数", code="deadlines.bad_days", days=days)
    if not working:
        return calendar.workday_on_or_after(start + timedelta(days=days))
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    return day


def validate_local_limits(limits: Mapping[Rule, int | LocalLimit] | None) -> dict[Rule, LocalLimit]:
    """Normalise configured limits and refuse any that could exceed the statute (run at configuration load).

    A bare int is in the statute's own unit. A working-day limit against a calendar-day statute is compared at
    5 working days per 7 calendar days; holidays could still stretch it, which is why `deadline_for` also caps.
    """
    result: dict[Rule, LocalLimit] = {}
    for rule, raw in (limits or {}).items():
        rule = Rule(rule)
        statute = STATUTORY[rule]
        limit = LocalLimit(raw, statute.working) if isinstance(raw, int) else raw
        if limit.days < 1:
            raise _limit_error(rule, limit, "本地期限必须为正整数")
        if _nominal_calendar_days(limit) > _nominal_calendar_days(LocalLimit(statute.days, statute.working)):
            raise _limit_error(rule, limit, "本地期限长于法定期限")
        result[rule] = limit
    return result


def deadline_for(
    rule: Rule,
    start: date,
    calendar: WorkCalendar,
    *,
    local_limits: Mapping[Rule, int | LocalLimit] | None = None,
    extension_days: int = 0,
    excluded_days: int = 0,
) -> Deadline:
    """The due date of `rule` for an event on `start`: the local limit if stricter, never past the statute.

    `extension_days` (HANDLE only, at most 30) lengthens the period counted from the same start (60 + 30 days from
    acceptance: the stricter of the two readings of "extended by at most 30 days", since the alternative, 30 days
    from an original end already moved off a rest day, can only be later); `excluded_days` (RECHECK only) adds the
    days a hearing took, which the regulation does not count.
    """
    statute = STATUTORY[rule]
    _check_adjustments(rule, extension_days, excluded_days)
    added = extension_days + excluded_days
    statutory = _period_end(start, LocalLimit(statute.days, statute.working), added, calendar)
    limit = validate_local_limits(local_limits).get(rule)
    local = _period_end(start, limit, added, calendar) if limit else None
    due = min(statutory, local) if local else statutory
    return Deadline(
        rule=rule,
        start_on=start,
        due_on=due,
        statutory_due_on=statutory,
        is_local_limit=local is not None and local < statutory,
        is_provisional=bool(calendar.uncovered_years(start, statutory)),
    )


def clock_state(start: date, due: date, today: date) -> ClockState:
    """On time, due soon (at least 80% of the days from start to due have passed), or overdue (after `due`).

    Measured in calendar days even for working-day periods: the warning is a prompt, not a legal fact, and a
    calendar-day share is what a clerk reading the due date expects.
    """
    if today > due:
        return ClockState.OVERDUE
    length = (due - start).days
    used = (today - start).days
    if length <= 0 or used >= DUE_SOON_SHARE * length:
        return ClockState.DUE_SOON
    return ClockState.ON_TIME


def _check_adjustments(rule: Rule, extension_days: int, excluded_days: int) -> None:
    if extension_days < 0 or excluded_days < 0:
        raise InvalidInput("延期或扣除天数不能为负数", code="deadlines.negative_adjustment")
    if extension_days and rule not in EXTENDABLE:
        raise InvalidInput(
            f"「{STATUTORY[rule].label}」期限不得延长", code="deadlines.not_extendable", rule=rule.value
        )
    if extension_days > MAX_EXTENSION_DAYS:
        raise InvalidInput(
            f"延期不得超过{MAX_EXTENSION_DAYS}日", code="deadlines.extension_too_long", days=extension_days
        )
    if excluded_days and rule not in HEARING_EXCLUDABLE:
        raise InvalidInput(
            f"「{STATUTORY[rule].label}」期限不扣除听证时间", code="deadlines.not_excludable", rule=rule.value
        )


def _nominal_calendar_days(limit: LocalLimit) -> float:
    return limit.days * WORKING_WEEK_RATIO if limit.working else float(limit.days)


def _limit_error(rule: Rule, limit: LocalLimit, why: str) -> InvalidInput:
    statute = STATUTORY[rule]
    return InvalidInput(
        f"{why}：「{statute.label}」配置为{limit.days}{_unit(limit.working)}，"
        f"法定为{statute.days}{_unit(statute.working)}",
        code="deadlines.local_limit_exceeds_statute",
        rule=rule.value,
        days=limit.days,
        statutory_days=statute.days,
    )


def _unit(working: bool) -> str:
    return "个工作日" if working else "日"


def _period_end(start: date, limit: LocalLimit, added_days: int, calendar: WorkCalendar) -> date:
    """End of a local limit plus added calendar days (extension, hearing): added after the working-day count."""
    if not limit.working:
        return due_on(start, limit.days + added_days, working=False, calendar=calendar)
    end = due_on(start, limit.days, working=True, calendar=calendar)
    return calendar.workday_on_or_after(end + timedelta(days=added_days)) if added_days else end
