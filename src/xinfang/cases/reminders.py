"""The scheduled reminder scan: every open statutory clock that is due soon or overdue produces one notification to
the unit it binds (once per clock and state, however often the scan runs, on however many instances)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.deadlines import STATUTORY, ClockState, Rule, clock_state, is_duty
from xinfang.cases.models import Clock, Notification
from xinfang.clock import local_date


def remind(session: Session, *, now: datetime) -> dict[str, int]:
    today = local_date(now)
    open_clocks = session.execute(
        select(Clock).where(
            Clock.closed_on.is_(None), Clock.binds_petitioner.is_(False), Clock.unit_id.is_not(None)
        )
    ).scalars()
    existing = set(
        session.execute(select(Notification.dedup_key).where(Notification.kind.like("clock_%"))).scalars()
    )
    counts = {"due_soon": 0, "overdue": 0}
    for clock in open_clocks:
        state = clock_state(clock.start_on, clock.due_on, today)
        if state == ClockState.ON_TIME or (state == ClockState.OVERDUE and not is_duty(clock.rule)):
            continue
        key = f"clock:{clock.id}:{state.value}"
        if key in existing:
            continue
        label = STATUTORY[Rule(clock.rule)].label
        word = "已超期" if state == ClockState.OVERDUE else "即将到期"
        session.add(
            Notification(
                unit_id=clock.unit_id,
                petition_id=clock.petition_id,
                kind=f"clock_{state.value}",
                dedup_key=key,
                created_at=now,
                message=f"{clock.petition.number}「{label}」{word}(期限{clock.due_on.isoformat()})",
            )
        )
        existing.add(key)
        counts[state.value] += 1
    return counts
