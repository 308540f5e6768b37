"""Retention of the job table: done jobs go after the retention period, in bounded batches; dead letters, pending and
running jobs and recent done jobs stay. The daily purge is scheduled once however many workers run, and the
operator's `xinfang jobs purge` does the same by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import T0
from xinfang.cli import build_app
from xinfang.cli.jobs import make_worker
from xinfang.runtime import Runtime
from xinfang.security.models import AuditEntry
from xinfang.store.jobs import PURGE_JOB, Job, JobState, enqueue, enqueue_once, purge_done

DAY = timedelta(days=1)


def _job(rt: Runtime, state: JobState, *, finished: datetime | None, kind: str = "test.kind") -> int:
    with rt.session() as s:
        job = enqueue(s, kind=kind, payload={}, now=(finished or T0) - DAY)
        job.state, job.finished_at = state.value, finished
        s.flush()
        return job.id


def _ids(rt: Runtime) -> set[int]:
    with rt.session() as s:
        return set(s.execute(select(Job.id)).scalars())


def test_only_old_done_jobs_are_purged_in_batches(runtime: Runtime) -> None:
    old = [_job(runtime, JobState.DONE, finished=T0 - 40 * DAY - i * DAY) for i in range(5)]
    keep = {
        _job(runtime, JobState.DONE, finished=T0 - 29 * DAY),  # within the retention period
        _job(runtime, JobState.DEAD, finished=T0 - 400 * DAY),  # a dead letter: an operator must see it
        _job(runtime, JobState.PENDING, finished=None),
        _job(runtime, JobState.RUNNING, finished=None),
    }
    assert purge_done(runtime.sessions, finished_before=T0 - 30 * DAY, batch_size=2) == 5  # batches 2+2+1
    assert _ids(runtime) == keep and not set(old) & _ids(runtime)
    assert purge_done(runtime.sessions, finished_before=T0 - 30 * DAY, batch_size=2) == 0


def test_the_daily_purge_is_scheduled_once_by_many_workers_and_run_by_one(runtime: Runtime) -> None:
    old = _job(runtime, JobState.DONE, finished=T0 - 31 * DAY)
    recent = _job(runtime, JobState.DONE, finished=T0 - 2 * DAY)
    dead = _job(runtime, JobState.DEAD, finished=T0 - 90 * DAY)
    # the purge alone here; the scheduled tasks are tested in tests/api/test_scheduled_tasks.py
    runtime.settings.schedule_enabled = False
    workers = [make_worker(runtime) for _ in range(3)]
    assert [w.schedule_recurring() for w in workers] == [1, 0, 0]  # one job for the day, whoever comes first
    assert sum(w.run_until_idle() for w in workers) == 1
    with runtime.session() as s:
        purge = s.execute(select(Job).where(Job.kind == PURGE_JOB)).scalar_one()
        assert purge.state == "done" and purge.dedup_key is not None
    assert _ids(runtime) == {recent, dead, purge.id} and old not in _ids(runtime)

    runtime.clock.advance(hours=6)  # same day: nothing new
    assert workers[0].schedule_recurring() == 0
    runtime.clock.advance(days=1)  # the next day: one more run
    assert [w.schedule_recurring() for w in workers] == [1, 0, 0]
    with runtime.session() as s:
        assert s.execute(select(func.count()).where(Job.kind == PURGE_JOB)).scalar_one() == 2


def test_enqueue_once_keeps_one_job_per_key(runtime: Runtime) -> None:
    args = {"kind": "test.kind", "dedup_key": "test.kind@1", "payload": {}, "now": T0}
    assert enqueue_once(runtime.sessions, **args) is True
    assert enqueue_once(runtime.sessions, **args) is False
    with runtime.session() as s:
        assert s.execute(select(func.count()).select_from(Job)).scalar_one() == 1


def test_the_purge_command(runtime: Runtime) -> None:
    now = datetime.now(UTC)  # the command runs on the real clock
    old = _job(runtime, JobState.DONE, finished=now - 12 * DAY)
    recent = _job(runtime, JobState.DONE, finished=now - 8 * DAY)
    dead = _job(runtime, JobState.DEAD, finished=now - 365 * DAY)
    db = runtime.settings.database_url
    result = CliRunner().invoke(build_app(), ["jobs", "purge", "--older-than-days", "10", "--db", db])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["deleted"] == 1 and report["older_than_days"] == 10
    assert report["counts"] == {"done": 1, "dead": 1}
    assert _ids(runtime) == {recent, dead} and old not in _ids(runtime)
    with runtime.session() as s:
        (entry,) = s.execute(select(AuditEntry).where(AuditEntry.action == "job.purge")).scalars()
        assert entry.details == {"deleted": 1, "older_than_days": 10}
    # the default retention (30 days) keeps the 8-day-old job; a negative age is refused
    result = CliRunner().invoke(build_app(), ["jobs", "purge", "--db", db])
    assert result.exit_code == 0 and json.loads(result.stdout.strip().splitlines()[-1])["deleted"] == 0
    assert (
        CliRunner().invoke(build_app(), ["jobs", "purge", "--older-than-days", "-1", "--db", db]).exit_code
        == 2
    )
