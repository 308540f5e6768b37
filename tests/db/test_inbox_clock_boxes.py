"""The inbox's clock boxes (临期, 超期) are computed in the database: they must agree with `deadlines.clock_state`,
which the case page shows, on every backend — the 80% boundary and zero-length periods included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from xinfang.cases.deadlines import ClockState, Rule, clock_state, is_duty
from xinfang.cases.models import Clock, Petition
from xinfang.inbox.service import _clock_petitions
from xinfang.runtime import Runtime

TODAY = date(2026, 3, 2)
# (start offset from today, period length in days): every share of the period used, both sides of 80%, overdue
SHAPES = [(-used, length) for length in (0, 1, 4, 5, 15, 16, 30, 60, 90) for used in range(0, length + 3)]


def _petition(session, n: int) -> Petition:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    p = Petition(
        channel="visit",
        status="accepted",
        title="时钟测试",
        body="时钟测试",
        received_at=at,
        registered_at=at,
        source="test",
        dedup_key=f"clock-{n}",
        is_demo=False,
    )
    session.add(p)
    return p


def test_the_clock_boxes_agree_with_the_case_page_on_every_clock(runtime: Runtime) -> None:
    expected: dict[ClockState, set[int]] = {state: set() for state in ClockState}
    with runtime.session() as s:
        for n, (offset, length) in enumerate(SHAPES):
            start = TODAY + timedelta(days=offset)
            due = start + timedelta(days=length)
            p = _petition(s, n)
            p.clocks = [
                Clock(rule=Rule.HANDLE.value, start_on=start, due_on=due, statutory_due_on=due),
                # closed, or a petitioner's own window: never work, whatever its dates
                Clock(
                    rule=Rule.HANDLE.value,
                    start_on=start,
                    due_on=start,
                    statutory_due_on=start,
                    closed_on=start,
                ),
                Clock(
                    rule=Rule.REVIEW_REQUEST_WINDOW.value,
                    start_on=start,
                    due_on=start,
                    statutory_due_on=start,
                ),
            ]
            s.flush()
            expected[clock_state(start, due, TODAY)].add(p.id)
    assert not is_duty(Rule.REVIEW_REQUEST_WINDOW)
    assert expected[ClockState.DUE_SOON] and expected[ClockState.OVERDUE] and expected[ClockState.ON_TIME]
    with runtime.session() as s:
        for state in (ClockState.DUE_SOON, ClockState.OVERDUE):
            found = set(s.execute(select(_clock_petitions(state, TODAY).subquery())).scalars())
            assert found == expected[state], state
