"""The worker runs the daily and periodic tasks itself, so a deployment needs no cron: each task is enqueued once per
period however many workers schedule it, a daily one not before its local morning hour, and running the jobs does
the work of the CLI commands (reminders, the warning scan of the day before and its pushes with retries, 案件评查,
ledger reminders), once, however often it runs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from math import ceil
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.alerts import test_channels
from tests.alerts.conftest import add_petition
from tests.alerts.test_channels import Receiver
from tests.factories import petition_payload
from tests.prevention import conftest as prevention_fixtures
from tests.review.test_review_api import _walk
from xinfang.alerts.models import Alert, AlertDelivery
from xinfang.cases.deadlines import DUE_SOON_SHARE, Rule
from xinfang.cases.models import Clock, Notification
from xinfang.cli.jobs import make_worker
from xinfang.clock import CHINA_TZ, FixedClock
from xinfang.ops.scheduled import (
    ALERTS_DELIVER,
    ALERTS_SCAN,
    CLOCKS_REMIND,
    KINDS,
    PREVENTION_REMIND,
    REFERRALS_POLL,
    REVIEW_RUN,
)
from xinfang.review.models import CaseReview
from xinfang.runtime import Runtime
from xinfang.store.jobs import PURGE_JOB, Job, JobState

receiver = test_channels.receiver
add_entry = prevention_fixtures.add_entry
Auth = Callable[[str], dict[str, str]]


def local(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), CHINA_TZ)


def _keys(rt: Runtime) -> dict[str, set[str]]:
    """The dedup keys of the recurring jobs, by kind."""
    out: dict[str, set[str]] = defaultdict(set)
    with rt.session() as s:
        for kind, key in s.execute(select(Job.kind, Job.dedup_key).where(Job.kind.in_([*KINDS, PURGE_JOB]))):
            out[kind].add(key)
    return out


def _runs(rt: Runtime, kind: str) -> list[str]:
    with rt.session() as s:
        return list(s.execute(select(Job.state).where(Job.kind == kind).order_by(Job.id)).scalars())


def _morning(rt: Runtime, at: datetime) -> int:
    """What a worker does at `at`: schedule what is due, run everything."""
    assert isinstance(rt.clock, FixedClock)
    rt.clock.instant = at
    worker = make_worker(rt)
    worker.schedule_recurring()
    return int(worker.run_until_idle())


def test_each_task_is_scheduled_once_per_period_and_not_before_its_local_hour(seeded: Runtime) -> None:
    clock = seeded.clock
    assert isinstance(clock, FixedClock)
    day = date(2026, 3, 2)
    clock.instant = local(day, 6, 29)
    workers = [make_worker(seeded), make_worker(seeded)]
    # at 06:29 the daily periods are yesterday's (a worker that was away catches up once); two workers, one job each
    assert [w.schedule_recurring() for w in workers] == [1 + len(KINDS), 0]
    assert _keys(seeded)[CLOCKS_REMIND] == {"clocks.remind@2026-02-28T22:30:00+00:00"}  # 1 March 06:30 China

    clock.instant = local(day, 6, 29, 59)  # a second before the hour: nothing new
    assert sum(w.schedule_recurring() for w in workers) == 0

    new_at = {  # the defaults: reminders 06:30, scan 06:40, review 06:50, ledger 06:55, pushes every 10 min, poll hourly
        (6, 30): {CLOCKS_REMIND, ALERTS_DELIVER},
        (6, 40): {ALERTS_SCAN, ALERTS_DELIVER},
        (6, 50): {REVIEW_RUN, ALERTS_DELIVER},
        (6, 55): {PREVENTION_REMIND},
        (7, 0): {ALERTS_DELIVER, REFERRALS_POLL},
    }
    for (hh, mm), kinds in new_at.items():
        clock.instant = local(day, hh, mm)
        before = _keys(seeded)
        assert [w.schedule_recurring() for w in reversed(workers)] == [len(kinds), 0]
        added = {kind: keys - before[kind] for kind, keys in _keys(seeded).items() if keys - before[kind]}
        assert set(added) == kinds
        for kind in kinds:
            (key,) = added[kind]
            assert (
                datetime.fromisoformat(key.split("@", 1)[1]) == clock.instant
            )  # the period starts at its hour

    total = sum(len(keys) for keys in _keys(seeded).values())
    assert sum(w.run_until_idle() for w in workers) == total  # each job run by one worker
    for kind in KINDS:
        assert set(_runs(seeded, kind)) == {JobState.DONE.value}, kind
    clock.instant = local(day, 7, 9)
    assert sum(w.schedule_recurring() for w in workers) == 0


def test_the_hours_come_from_the_settings_and_the_schedule_can_be_switched_off(seeded: Runtime) -> None:
    later = Runtime(
        settings=seeded.settings.model_copy(update={"schedule_clocks_remind_at": time(7, 15)}),
        clock=seeded.clock,
    )
    off = Runtime(settings=seeded.settings.model_copy(update={"schedule_enabled": False}), clock=seeded.clock)
    try:
        assert [r.kind for r in make_worker(off).recurring] == [PURGE_JOB]  # a site that keeps its cron lines
        assert make_worker(off).schedule_recurring() == 1 and set(_keys(seeded)) == {PURGE_JOB}

        day = date(2026, 3, 2)
        assert _morning(later, local(day, 7, 14)) > 0
        assert _keys(seeded)[CLOCKS_REMIND] == {"clocks.remind@2026-02-28T23:15:00+00:00"}  # 1 March 07:15
        assert _morning(later, local(day, 7, 15)) > 0
        assert "clocks.remind@2026-03-01T23:15:00+00:00" in _keys(seeded)[CLOCKS_REMIND]
    finally:
        later.dispose()
        off.dispose()


def _clock_notes(rt: Runtime) -> list[str]:
    with rt.session() as s:
        return list(s.execute(select(Notification.kind).where(Notification.kind.like("clock_%"))).scalars())


def test_the_morning_reminder_job_tells_the_unit_of_a_due_soon_step_once(
    client: TestClient, auth: Auth, seeded: Runtime
) -> None:
    pid = client.post("/api/petitions", json=petition_payload(), headers=auth("clerk")).json()["id"]
    r = client.post(
        f"/api/petitions/{pid}/actions/forward", json={"department": "rsj"}, headers=auth("clerk")
    )
    assert r.status_code == 200, r.text
    with (
        seeded.session() as s
    ):  # rsj's duty to notify acceptance: 15 days (its 5-day objection right lapses first)
        start, due = s.execute(
            select(Clock.start_on, Clock.due_on).where(Clock.rule == Rule.ACCEPT_NOTICE.value)
        ).one()
    due_soon = start + timedelta(
        days=ceil(DUE_SOON_SHARE * (due - start).days)
    )  # first day it counts as 临期

    _morning(seeded, local(due_soon - timedelta(days=1), 6, 35))
    assert _clock_notes(seeded) == [] and _runs(seeded, CLOCKS_REMIND) == ["done"]
    _morning(seeded, local(due_soon, 6, 29))  # due soon already, but the day's reminders wait for 06:30
    assert _clock_notes(seeded) == [] and len(_runs(seeded, CLOCKS_REMIND)) == 1
    _morning(seeded, local(due_soon, 6, 30))
    assert _clock_notes(seeded) == ["clock_due_soon"]
    notes = client.get("/api/notifications", headers=auth("handler_rsj")).json()
    assert [n["kind"] for n in notes] == ["clock_due_soon"]

    _morning(seeded, local(due_soon, 12, 0))  # later the same day: no second run
    _morning(seeded, local(due_soon + timedelta(days=1), 6, 30))  # the next day: a run, but nothing twice
    assert _runs(seeded, CLOCKS_REMIND) == ["done", "done", "done"]
    assert _clock_notes(seeded) == ["clock_due_soon"]


def _hook(rt: Runtime) -> AlertDelivery:
    with rt.session() as s:
        return s.execute(select(AlertDelivery).where(AlertDelivery.channel == "hook")).scalar_one()


def test_the_morning_scan_alerts_on_the_day_before_and_a_failed_push_is_retried(
    seeded: Runtime, receiver: Receiver
) -> None:
    receiver.failures = 1
    seeded.settings.alert_channels = [
        {"name": "hook", "type": "webhook", "url": receiver.url, "tiers": ["red"]}
    ]
    yesterday = date(2026, 3, 1)
    with seeded.session() as s:
        add_petition(s, day=yesterday, channel="visit", headcount=30)  # 集体访: red at once

    _morning(seeded, local(date(2026, 3, 2), 6, 40))
    with seeded.session() as s:
        alert = s.execute(select(Alert)).scalar_one()
        assert (alert.tier, alert.first_signal_on, alert.last_signal_on) == ("red", yesterday, yesterday)
        inapp = s.execute(select(AlertDelivery.status).where(AlertDelivery.channel != "hook")).scalars().all()
        assert inapp == ["sent"]  # pushed right after the scan
    hook = _hook(seeded)
    assert (hook.status, hook.attempts) == ("pending", 1) and len(receiver.requests) == 1

    _morning(seeded, local(date(2026, 3, 2), 6, 45))  # back-off over, but the next push round is at 06:50
    assert len(receiver.requests) == 1
    _morning(seeded, local(date(2026, 3, 2), 6, 50))
    hook = _hook(seeded)
    assert (hook.status, hook.attempts) == ("sent", 2) and len(receiver.accepted) == 1

    _morning(
        seeded, local(date(2026, 3, 3), 6, 40)
    )  # the next morning scans 2 March: nothing new, nothing twice
    with seeded.session() as s:
        assert s.execute(select(func.count()).select_from(Alert)).scalar_one() == 1
    assert len(receiver.requests) == 2 and _runs(seeded, ALERTS_SCAN) == ["done", "done"]


def test_the_daily_review_reviews_a_concluded_case_once(
    client: TestClient, auth: Auth, seeded: Runtime
) -> None:
    assert isinstance(seeded.clock, FixedClock)
    pid = _walk(client, auth, seeded.clock)
    for day in (date(2026, 3, 3), date(2026, 3, 4)):
        _morning(seeded, local(day, 6, 50))
    with seeded.session() as s:
        reviews = s.execute(select(CaseReview.trigger).where(CaseReview.petition_id == pid)).scalars().all()
    assert reviews == ["auto"] and _runs(seeded, REVIEW_RUN) == ["done", "done"]


def test_the_daily_ledger_reminder_notifies_and_escalates_once(
    seeded: Runtime, add_entry: Callable[..., dict[str, Any]]
) -> None:
    add_entry(due_on="2026-02-20")  # 11 days overdue on 3 March: the unit is reminded, the bureau told
    for day in (date(2026, 3, 3), date(2026, 3, 4)):
        _morning(seeded, local(day, 6, 55))
    with seeded.session() as s:
        kinds = sorted(
            s.execute(select(Notification.kind).where(Notification.kind.like("ledger_%"))).scalars()
        )
    assert kinds == ["ledger_escalated", "ledger_overdue"]
    assert _runs(seeded, PREVENTION_REMIND) == ["done", "done"]


def test_the_commands_for_cron_do_the_same_work(
    client: TestClient, auth: Auth, seeded: Runtime, add_entry: Callable[..., dict[str, Any]]
) -> None:
    """A site with XINFANG_SCHEDULE_ENABLED=false runs the commands; they call the same tasks (on the real clock,
    months after the fixed one: the acceptance notice and the ledger entry are overdue by then)."""
    import json

    from typer.testing import CliRunner

    from xinfang.cli import build_app

    assert isinstance(seeded.clock, FixedClock)
    concluded = _walk(client, auth, seeded.clock)
    pid = client.post("/api/petitions", json=petition_payload(), headers=auth("clerk")).json()["id"]
    r = client.post(
        f"/api/petitions/{pid}/actions/forward", json={"department": "rsj"}, headers=auth("clerk")
    )
    assert r.status_code == 200, r.text
    add_entry(due_on="2026-02-20")

    def run(*args: str) -> Any:
        result = CliRunner().invoke(build_app(), [*args, "--db", seeded.settings.database_url])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout.strip().splitlines()[-1])

    for first in (True, False):  # the second time finds everything done
        assert run("clocks", "remind")["overdue"] == (1 if first else 0)
        assert run("review", "run")["reviewed"] == (1 if first else 0)
        counts = run("prevention", "remind")
        assert (counts["overdue"], counts["escalated"]) == ((1, 1) if first else (0, 0))
        assert run("referrals", "poll")["checked"] == 0
        assert run("alerts", "deliver")["sent"] == 0
    with seeded.session() as s:
        assert s.execute(select(CaseReview.petition_id)).scalars().all() == [concluded]


def test_the_review_runs_in_batches_and_counts_them_all(
    client: TestClient, auth: Auth, seeded: Runtime
) -> None:
    """One short transaction per batch (SQLite's single write lock); the counts add up over the batches."""
    from xinfang.ops.scheduled import review_run
    from xinfang.review.rules import PASS_THRESHOLD, RULES_VERSION

    assert isinstance(seeded.clock, FixedClock)
    ids = [_walk(client, auth, seeded.clock, late=k in (1, 3)) for k in range(4)]
    assert review_run(seeded, limit=1, batch=2)["reviewed"] == 1
    result = review_run(seeded, batch=2)  # the other three: a batch of two, then one of one
    with seeded.session() as s:
        scores = dict(s.execute(select(CaseReview.petition_id, CaseReview.score)).all())
    assert sorted(scores) == ids  # each case once
    rest = [scores[i] for i in ids[1:]]  # scores are whole numbers: the weighted mean of the batches is exact
    assert result == {
        "reviewed": 3,
        "rules_version": RULES_VERSION,
        "mean_score": round(sum(rest) / 3, 2),
        "below_threshold": sum(score < PASS_THRESHOLD for score in rest),
    }
    assert review_run(seeded, batch=2)["reviewed"] == 0
