"""Statutory periods: the regulation's examples, holidays and 调休, local limits, extension, hearings, clock states."""

from __future__ import annotations

from datetime import date

import pytest

from xinfang.cases.calendar import CalendarCoverageWarning, load_calendar
from xinfang.cases.deadlines import (
    STATUTORY,
    ClockState,
    LocalLimit,
    Rule,
    clock_state,
    deadline_for,
    due_on,
    validate_local_limits,
)
from xinfang.errors import InvalidInput

CAL = load_calendar()
D = date.fromisoformat


# --- the examples in regulation.md ---------------------------------------------------------------------------------


def test_five_working_days_from_30_september_2025_end_on_14_october() -> None:
    assert due_on(D("2025-09-30"), 5, working=True, calendar=CAL) == D("2025-10-14")


def test_fifteen_days_from_16_september_2025_end_on_9_october() -> None:
    assert due_on(D("2025-09-16"), 15, working=False, calendar=CAL) == D("2025-10-09")


def test_the_regulation_examples_through_the_rule_table() -> None:
    assert deadline_for(Rule.OBJECT, D("2025-09-30"), CAL).due_on == D("2025-10-14")
    assert deadline_for(Rule.ACCEPT_NOTICE, D("2025-09-16"), CAL).due_on == D("2025-10-09")


# --- holidays and adjusted working days ----------------------------------------------------------------------------


def test_working_days_across_spring_festival_2026_count_the_adjusted_saturday() -> None:
    # 13 Feb (Fri) 1, 14 Feb (调休 Sat) 2, 15-23 Feb holiday, 24 Feb 3, 25 Feb 4, 26 Feb 5
    assert due_on(D("2026-02-12"), 5, working=True, calendar=CAL) == D("2026-02-26")


def test_working_days_across_national_day_2025_count_the_adjusted_saturday() -> None:
    # 9 Oct 1, 10 Oct 2, 11 Oct (调休 Sat) 3
    assert due_on(D("2025-09-30"), 3, working=True, calendar=CAL) == D("2025-10-11")


def test_a_calendar_period_ending_in_the_spring_festival_moves_to_the_first_day_back() -> None:
    assert due_on(D("2026-02-01"), 15, working=False, calendar=CAL) == D("2026-02-24")


def test_a_calendar_period_ending_on_an_adjusted_working_saturday_stays_there() -> None:
    assert due_on(D("2026-02-13"), 15, working=False, calendar=CAL) == D("2026-02-28")
    assert due_on(D("2025-09-13"), 15, working=False, calendar=CAL) == D("2025-09-28")  # a 调休 Sunday


def test_a_calendar_period_ending_on_an_ordinary_sunday_moves_to_monday() -> None:
    assert due_on(D("2026-03-07"), 15, working=False, calendar=CAL) == D("2026-03-23")


def test_a_period_starts_the_day_after_the_event() -> None:
    assert due_on(D("2026-03-02"), 1, working=False, calendar=CAL) == D("2026-03-03")
    assert due_on(D("2026-03-06"), 1, working=True, calendar=CAL) == D("2026-03-09")  # Friday -> Monday


def test_a_period_must_have_at_least_one_day() -> None:
    with pytest.raises(InvalidInput):
        due_on(D("2026-03-02"), 0, working=False, calendar=CAL)


# --- the statutory table -------------------------------------------------------------------------------------------


def test_the_statutory_table_has_the_regulations_numbers() -> None:
    expected = {
        Rule.FORWARD: (15, False),
        Rule.RECEIPT_NOTICE: (15, False),
        Rule.ACCEPT_NOTICE: (15, False),
        Rule.OBJECT: (5, True),
        Rule.HANDLE: (60, False),
        Rule.EXTEND: (30, False),
        Rule.REVIEW_REQUEST_WINDOW: (30, False),
        Rule.REVIEW: (30, False),
        Rule.RECHECK_REQUEST_WINDOW: (30, False),
        Rule.RECHECK: (30, False),
    }
    assert {rule: (p.days, p.working) for rule, p in STATUTORY.items()} == expected
    assert {r for r, p in STATUTORY.items() if p.binds_petitioner} == {
        Rule.REVIEW_REQUEST_WINDOW,
        Rule.RECHECK_REQUEST_WINDOW,
    }


def test_handling_takes_60_days_from_acceptance() -> None:
    deadline = deadline_for(Rule.HANDLE, D("2026-03-02"), CAL)
    assert (
        deadline.due_on == deadline.statutory_due_on == D("2026-05-06")
    )  # 1 May falls in the Labour Day break
    assert not deadline.is_local_limit and not deadline.is_provisional


# --- extension and hearings ----------------------------------------------------------------------------------------


def test_an_extension_adds_at_most_30_days_to_the_handling_period() -> None:
    assert deadline_for(Rule.HANDLE, D("2026-03-02"), CAL, extension_days=30).due_on == D(
        "2026-06-01"
    )  # 90 days
    with pytest.raises(InvalidInput) as err:
        deadline_for(Rule.HANDLE, D("2026-03-02"), CAL, extension_days=31)
    assert err.value.code == "deadlines.extension_too_long"


def test_only_the_handling_period_can_be_extended() -> None:
    with pytest.raises(InvalidInput) as err:
        deadline_for(Rule.REVIEW, D("2026-03-02"), CAL, extension_days=10)
    assert err.value.code == "deadlines.not_extendable"


def test_hearing_days_do_not_count_in_the_re_review_period() -> None:
    plain = deadline_for(Rule.RECHECK, D("2026-03-02"), CAL)
    with_hearing = deadline_for(Rule.RECHECK, D("2026-03-02"), CAL, excluded_days=10)
    assert plain.due_on == D("2026-04-01")
    assert with_hearing.due_on == D("2026-04-13")  # 11 April is a Saturday


def test_hearing_days_are_excluded_only_from_re_review() -> None:
    with pytest.raises(InvalidInput) as err:
        deadline_for(Rule.HANDLE, D("2026-03-02"), CAL, excluded_days=5)
    assert err.value.code == "deadlines.not_excludable"
    with pytest.raises(InvalidInput):
        deadline_for(Rule.RECHECK, D("2026-03-02"), CAL, excluded_days=-1)


# --- local limits --------------------------------------------------------------------------------------------------


def test_a_stricter_local_limit_applies() -> None:
    deadline = deadline_for(
        Rule.HANDLE, D("2026-03-02"), CAL, local_limits={Rule.HANDLE: LocalLimit(20, True)}
    )
    assert deadline.due_on == D("2026-03-30")  # 20 working days
    assert deadline.statutory_due_on == D("2026-05-06")
    assert deadline.is_local_limit


def test_a_bare_int_local_limit_is_in_the_statutes_unit() -> None:
    assert deadline_for(Rule.HANDLE, D("2026-03-02"), CAL, local_limits={Rule.HANDLE: 30}).due_on == D(
        "2026-04-01"
    )


def test_the_statute_caps_a_working_day_limit_that_holidays_stretch() -> None:
    # 10 working days from 12 Feb 2026 would end on 4 March; the statute's 15 calendar days end on 27 February.
    deadline = deadline_for(
        Rule.FORWARD, D("2026-02-12"), CAL, local_limits={Rule.FORWARD: LocalLimit(10, True)}
    )
    assert deadline.due_on == deadline.statutory_due_on == D("2026-02-27")
    assert not deadline.is_local_limit


@pytest.mark.parametrize(
    ("rule", "limit"),
    [
        (Rule.HANDLE, 61),
        (Rule.HANDLE, LocalLimit(50, True)),  # 50 working days is 70 calendar days of ordinary weeks
        (Rule.OBJECT, 6),
        (Rule.OBJECT, LocalLimit(8, False)),
        (Rule.REVIEW, 0),
    ],
)
def test_a_local_limit_longer_than_the_statute_is_refused_at_configuration(
    rule: Rule, limit: int | LocalLimit
) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_local_limits({rule: limit})
    assert err.value.code == "deadlines.local_limit_exceeds_statute"
    assert err.value.params["rule"] == rule.value


def test_valid_local_limits_are_normalised() -> None:
    limits = validate_local_limits({Rule.HANDLE: LocalLimit(20, True), Rule.OBJECT: 3})
    assert limits == {Rule.HANDLE: LocalLimit(20, True), Rule.OBJECT: LocalLimit(3, True)}
    assert validate_local_limits(None) == {}


def test_an_extension_also_lengthens_a_local_limit_but_never_past_the_statute() -> None:
    deadline = deadline_for(
        Rule.HANDLE, D("2026-03-02"), CAL, local_limits={Rule.HANDLE: LocalLimit(20, True)}, extension_days=30
    )
    assert deadline.due_on == D("2026-04-29")  # 30 March + 30 days
    assert deadline.statutory_due_on == D("2026-06-01")


# --- provisional dates ---------------------------------------------------------------------------------------------


def test_a_deadline_reaching_into_an_uncovered_year_is_provisional() -> None:
    with pytest.warns(CalendarCoverageWarning):
        deadline = deadline_for(Rule.HANDLE, D("2026-12-01"), CAL)
    assert deadline.is_provisional
    assert deadline.due_on == D("2027-02-01")  # weekday rule only until the 2027 notice is loaded


# --- clock states --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "state"),
    [
        ("2026-03-01", ClockState.ON_TIME),
        ("2026-03-08", ClockState.ON_TIME),  # 7 of 10 days
        ("2026-03-09", ClockState.DUE_SOON),  # 8 of 10 days: 80%
        ("2026-03-11", ClockState.DUE_SOON),  # the last day is still on time, but due soon
        ("2026-03-12", ClockState.OVERDUE),
    ],
)
def test_clock_states(today: str, state: ClockState) -> None:
    assert clock_state(D("2026-03-01"), D("2026-03-11"), D(today)) == state


def test_a_zero_length_clock_is_due_soon_on_its_day() -> None:
    assert clock_state(D("2026-03-01"), D("2026-03-01"), D("2026-03-01")) == ClockState.DUE_SOON
