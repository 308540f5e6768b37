"""Background jobs and the transactional outbox: rows written with the change, delivered later by a worker.

A slice that must tell the outside world about a change calls `enqueue(session, kind=..., payload=...)` in the *same*
transaction as the change itself, so the change and the intention to deliver it commit or roll back together
(nothing is lost, nothing is sent for a change that did not happen). A worker (`xinfang worker`) then:

1. **claims** one due row in a short transaction of its own: state `pending` and `next_attempt_at <= now`, or state
   `running` whose lease ran out (its worker died mid-job). PostgreSQL selects with `FOR UPDATE SKIP LOCKED`, so
   concurrent workers pass over each other's rows; on every backend the claim is a conditional UPDATE
   (`WHERE id = ? AND attempts = ? AND <still claimable>`) and a row count other than 1 means another worker won.
   SQLite serialises writers (transactions begin IMMEDIATE), which makes that UPDATE atomic there too.
2. **runs** the handler registered for the row's `kind` with no transaction held (handlers open short sessions
   themselves and must never hold a write lock during network calls);
3. **finishes**: `done`; or, on failure, `pending` again with `next_attempt_at` pushed back exponentially
   (base x 2^(attempt-1), capped, plus up to 25% jitter so that a recovering platform is not hit by every worker at
   once); after `max_attempts` attempts, or at once for a non-retryable `IntegrationError`, the row goes to the
   dead-letter state `dead`, where an operator sees it (`GET /api/jobs?state=dead`, `xinfang jobs list`) and can
   send it again (`retry`). The finishing UPDATE is conditional on the attempt the worker claimed, so a worker whose
   lease expired cannot overwrite the result of the worker that took the row over.

Delivery is therefore *at least once*: a worker killed after the remote side acted but before `done` was written
leads to a second attempt. Handlers make that harmless with idempotency keys (the referral slice sends the same key
on every attempt and the platform answers a repeated key with the record it already has).

The module is generic: a `kind` string, a JSON payload and a `JobRegistry` of handlers built at start-up (never at
import). Lease: a handler must finish within `lease` seconds (adapters use shorter network timeouts).

**Keys and recurring work.** A job may carry a `dedup_key`, unique in the table: `enqueue_once` adds a job only if no
row has its key (one outbox row per referral; one run per day of a recurring job). Recurring work (`Recurring`, e.g.
the daily `jobs.purge`) is scheduled by the workers themselves: every worker, from time to time, enqueues the job of
the current period under the key `<kind>@<period start>`; the unique key makes all but the first attempt a no-op, and
the ordinary claim makes sure a single worker runs it. A period may start at a local hour (`Recurring.daily_at`: the
reminders at 06:30 China time, not at UTC midnight); a worker that was down at that hour runs the period's job when it
comes back. `xinfang.ops.scheduled` adds the daily and periodic tasks of the slices (reminders, warning scan, review,
referral polling) the same way, so no cron entry is needed beside `xinfang worker`.

**Retention.** Done jobs are kept `job_retention_days` (default 30) after they finished, then `purge_done` deletes
them in bounded batches, one short transaction per batch (never one long lock over the table). Dead-lettered jobs
are never deleted automatically: an operator must see them (and resend or accept them); pending and running jobs
are work still to do.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Integer, String, Text, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from xinfang.errors import IntegrationError, InvalidTransition, NotFound
from xinfang.store.base import Base, JSONType, UTCDateTime
from xinfang.store.db import is_postgres

log = logging.getLogger("xinfang.jobs")

MAX_ERROR_CHARS = 500


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class Job(Base):
    """One unit of background work or one outbox message. Done jobs are purged after the retention period
    (`purge_done`); dead ones are kept until an operator acts."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(10), default=JobState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(100))  # the worker holding, or last holding, the row
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # At most one job per key (NULLs never collide): one outbox row per referral, one run per recurring period.
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True)


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    jitter: float = 0.25

    def delay(self, attempt: int, rng: random.Random) -> timedelta:
        """Back-off after the `attempt`-th failure (1-based): base x 2^(attempt-1), capped, + up to `jitter`."""
        seconds = min(self.base_seconds * 2 ** max(attempt - 1, 0), self.max_seconds)
        return timedelta(seconds=seconds * (1 + rng.uniform(0, self.jitter)))


@dataclass(frozen=True)
class ClaimedJob:
    """What a handler receives: the row's data at claim time (not the ORM object: no session is open)."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int  # 1 for the first attempt
    max_attempts: int


Handler = Callable[[ClaimedJob], None]
# Called in the transaction that moves the row to `dead`: lets the owning slice reflect the failure (e.g. mark a
# referral as 发送失败 and tell its unit). Must not raise for ordinary data.
DeadHook = Callable[[Session, ClaimedJob, datetime], None]


@dataclass
class JobRegistry:
    handlers: dict[str, Handler] = field(default_factory=dict)
    dead_hooks: dict[str, DeadHook] = field(default_factory=dict)

    def register(self, kind: str, handler: Handler, *, on_dead: DeadHook | None = None) -> None:
        if kind in self.handlers:
            raise ValueError(f"job kind registered twice: {kind}")
        self.handlers[kind] = handler
        if on_dead is not None:
            self.dead_hooks[kind] = on_dead


# ---- writing (in the caller's transaction) --------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    max_attempts: int = 8,
    delay: timedelta = timedelta(0),
    dedup_key: str | None = None,
) -> Job:
    """Add a job in the caller's transaction; it becomes visible to workers when that transaction commits."""
    job = Job(
        kind=kind,
        payload=payload,
        state=JobState.PENDING.value,
        attempts=0,
        max_attempts=max_attempts,
        next_attempt_at=now + delay,
        created_at=now,
        dedup_key=dedup_key[:120] if dedup_key else None,
    )
    session.add(job)
    return job


def enqueue_once(
    factory: sessionmaker[Session],
    *,
    kind: str,
    dedup_key: str,
    payload: dict[str, Any],
    now: datetime,
    max_attempts: int = 3,
) -> bool:
    """Add a job under `dedup_key` unless one exists (in any state), in a short transaction of its own; True when
    this call added it. Safe when several workers try at once: the unique key lets exactly one insert win."""
    try:
        with factory() as session, session.begin():
            if session.execute(select(Job.id).where(Job.dedup_key == dedup_key)).first():
                return False
            enqueue(
                session, kind=kind, payload=payload, now=now, max_attempts=max_attempts, dedup_key=dedup_key
            )
    except IntegrityError:  # another worker inserted the same key meanwhile
        return False
    return True


def job_for_key(session: Session, dedup_key: str) -> Job | None:
    return session.execute(select(Job).where(Job.dedup_key == dedup_key)).scalar_one_or_none()


# ---- claiming and finishing (each in its own short transaction) -------------------------------------------------


def _claimable(now: datetime) -> Any:
    return or_(
        (Job.state == JobState.PENDING.value) & (Job.next_attempt_at <= now),
        (Job.state == JobState.RUNNING.value) & (Job.locked_until < now),
    )


def claim(
    factory: sessionmaker[Session],
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    kinds: Iterable[str] | None = None,
) -> ClaimedJob | None:
    """Take the most overdue claimable job, or None. Safe with any number of workers on either backend."""
    with factory() as session, session.begin():
        q = select(Job.id, Job.attempts).where(_claimable(now))
        if kinds is not None:
            q = q.where(Job.kind.in_(list(kinds)))
        q = q.order_by(Job.next_attempt_at, Job.id).limit(1)
        if is_postgres(session):
            q = q.with_for_update(skip_locked=True)
        row = session.execute(q).first()
        if row is None:
            return None
        job_id, seen = row
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.attempts == seen, _claimable(now))
            .values(
                state=JobState.RUNNING.value,
                attempts=seen + 1,
                locked_by=worker_id[:100],
                locked_until=now + lease,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None  # another worker won the race; the caller simply tries again
        job = session.get(Job, job_id)
        assert job is not None
        return ClaimedJob(job.id, job.kind, dict(job.payload or {}), job.attempts, job.max_attempts)


def _finish(session: Session, job: ClaimedJob, **values: Any) -> bool:
    result = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.attempts == job.attempt, Job.state == JobState.RUNNING.value)
        .values(locked_until=None, **values)  # locked_by stays: which worker ran the last attempt
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def complete(factory: sessionmaker[Session], job: ClaimedJob, *, now: datetime) -> bool:
    with factory() as session, session.begin():
        return _finish(session, job, state=JobState.DONE.value, finished_at=now, last_error=None)


def fail(
    factory: sessionmaker[Session],
    job: ClaimedJob,
    *,
    error: str,
    retryable: bool,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
    on_dead: DeadHook | None = None,
) -> JobState | None:
    """Schedule the next attempt or dead-letter the job; returns the new state (None: the row was taken over)."""
    with factory() as session, session.begin():
        if retryable and job.attempt < job.max_attempts:
            ok = _finish(
                session,
                job,
                state=JobState.PENDING.value,
                next_attempt_at=now + policy.delay(job.attempt, rng),
                last_error=error[:MAX_ERROR_CHARS],
            )
            return JobState.PENDING if ok else None
        ok = _finish(
            session, job, state=JobState.DEAD.value, finished_at=now, last_error=error[:MAX_ERROR_CHARS]
        )
        if ok and on_dead is not None:
            on_dead(session, job, now)
        return JobState.DEAD if ok else None


# ---- the operator's view ----------------------------------------------------------------------------------------


def list_jobs(
    session: Session, *, state: str | None = None, kind: str | None = None, limit: int = 200
) -> list[Job]:
    q = select(Job).order_by(Job.id.desc()).limit(limit)
    if state:
        q = q.where(Job.state == state)
    if kind:
        q = q.where(Job.kind == kind)
    return list(session.execute(q).scalars())


def counts(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    rows = session.execute(select(Job.state, func.count()).group_by(Job.state)).all()
    return {state: n for state, n in rows}


def retry(session: Session, *, job_id: int, now: datetime) -> Job:
    """Send a dead-lettered job again: a fresh set of attempts from now. The caller checks permission and audits."""
    job = session.execute(select(Job).where(Job.id == job_id).with_for_update()).scalar_one_or_none()
    if job is None:
        raise NotFound("任务不存在", code="job.not_found")
    if job.state != JobState.DEAD.value:
        raise InvalidTransition("只有失败(死信)的任务可以重新发送", code="job.not_dead", state=job.state)
    job.state, job.attempts, job.next_attempt_at = JobState.PENDING.value, 0, now
    job.finished_at = None
    return job


def purge_done(factory: sessionmaker[Session], *, finished_before: datetime, batch_size: int = 1000) -> int:
    """Delete the `done` jobs that finished before `finished_before`, `batch_size` rows per short transaction, until
    none is left; returns how many were deleted. Dead, pending and running jobs are never touched."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    deleted = 0
    while True:
        with factory() as session, session.begin():
            ids = list(
                session.execute(
                    select(Job.id)
                    .where(Job.state == JobState.DONE.value, Job.finished_at < finished_before)
                    .order_by(Job.id)
                    .limit(batch_size)
                ).scalars()
            )
            if ids:
                session.execute(
                    delete(Job)
                    .where(Job.id.in_(ids), Job.state == JobState.DONE.value)
                    .execution_options(synchronize_session=False)
                )
        deleted += len(ids)
        if len(ids) < batch_size:
            return deleted


PURGE_JOB = "jobs.purge"


def register_purge(
    registry: JobRegistry,
    *,
    sessions: sessionmaker[Session],
    retention: timedelta,
    batch_size: int,
    now: Callable[[], datetime],
) -> None:
    """The recurring clean-up as a job (kind `jobs.purge`): done jobs older than `retention` go."""

    def purge(job: ClaimedJob) -> None:
        n = purge_done(sessions, finished_before=now() - retention, batch_size=batch_size)
        log.info("purged %s done jobs older than %s days", n, retention.days)

    registry.register(PURGE_JOB, purge)


def job_view(job: Job) -> dict[str, Any]:
    """What an operator sees: never the payload's content beyond ids (payloads hold ids, not personal data)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "worker": job.locked_by,
        "next_attempt_at": job.next_attempt_at,
        "last_error": job.last_error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "dedup_key": job.dedup_key,
        "payload": job.payload,
    }


# ---- the worker -------------------------------------------------------------------------------------------------


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Recurring:
    """A job every worker schedules once per `period` (the key `<kind>@<period start>`, so once in all).

    Periods are the instants `EPOCH + offset + k*period`: `offset` moves a daily job from UTC midnight to a local
    morning hour (`daily_at`). The key names the period's start in UTC, whatever the clock's time zone, so it is the
    same on every worker and never collides with another period's."""

    kind: str
    period: timedelta = timedelta(days=1)
    max_attempts: int = 3
    offset: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.period <= timedelta(0):
            raise ValueError("a recurring job needs a positive period")

    @classmethod
    def daily_at(cls, kind: str, at: time, *, tz: timezone, max_attempts: int = 3) -> Recurring:
        """Once a day at the wall-clock time `at` in the fixed-offset zone `tz` (China: 06:30 is 22:30 UTC)."""
        utc_offset = tz.utcoffset(None)
        local = timedelta(hours=at.hour, minutes=at.minute, seconds=at.second)
        day = timedelta(days=1)
        return cls(kind, period=day, max_attempts=max_attempts, offset=(local - utc_offset) % day)

    def period_start(self, now: datetime) -> datetime:
        """The latest instant `EPOCH + offset + k*period` not after `now` (an aware datetime), in UTC."""
        origin = EPOCH + self.offset
        return origin + (now - origin) // self.period * self.period

    def key(self, now: datetime) -> str:
        return f"{self.kind}@{self.period_start(now).isoformat()}"


@dataclass
class Worker:
    """Claims and runs jobs until stopped. `stop` is set by SIGTERM: the current job finishes, then the loop ends.

    `recurring` work is scheduled by `schedule_recurring` (called by `run_forever` every `recurring_check` and by
    `xinfang worker --once`), not by `run_one`/`run_until_idle`, which only run what is due."""

    sessions: sessionmaker[Session]
    registry: JobRegistry
    now: Callable[[], datetime]
    worker_id: str
    lease: timedelta = timedelta(minutes=5)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    poll_seconds: float = 2.0
    rng: random.Random = field(default_factory=random.Random)
    stop: threading.Event = field(default_factory=threading.Event)
    recurring: tuple[Recurring, ...] = ()
    recurring_check: timedelta = timedelta(minutes=10)
    _recurring_checked: datetime | None = field(default=None, init=False, repr=False)

    def schedule_recurring(self) -> int:
        """Enqueue the current period's run of each recurring job unless some worker already did; returns how many
        this call added. Cheap (one indexed lookup per kind)."""
        now = self.now()
        self._recurring_checked = now
        return sum(
            enqueue_once(
                self.sessions,
                kind=r.kind,
                dedup_key=r.key(now),
                payload={"period": r.period_start(now).isoformat()},  # the run's period, however late it runs
                now=now,
                max_attempts=r.max_attempts,
            )
            for r in self.recurring
            if r.kind in self.registry.handlers
        )

    def _recurring_due(self) -> bool:
        last = self._recurring_checked
        return bool(self.recurring) and (last is None or self.now() - last >= self.recurring_check)

    def run_one(self) -> bool:
        """Claim and run one due job; False when none was due."""
        job = claim(
            self.sessions,
            worker_id=self.worker_id,
            now=self.now(),
            lease=self.lease,
            kinds=list(self.registry.handlers),
        )
        if job is None:
            return False
        if (
            job.attempt > job.max_attempts
        ):  # its workers kept vanishing mid-job (a poison job): stop retaking it
            self._fail(job, "lease expired on every attempt", retryable=False)
            return True
        handler = self.registry.handlers[job.kind]
        try:
            handler(job)
        except IntegrationError as exc:
            self._fail(job, f"{exc.code}: {exc.message}", retryable=exc.retryable)
        except Exception as exc:  # a bug or an outage: retry later; the type only, messages may carry data
            log.exception("job %s (%s) attempt %s failed", job.id, job.kind, job.attempt)
            self._fail(job, type(exc).__name__, retryable=True)
        else:
            if not complete(self.sessions, job, now=self.now()):
                log.warning("job %s finished after its lease was taken over", job.id)
        return True

    def _fail(self, job: ClaimedJob, error: str, *, retryable: bool) -> None:
        state = fail(
            self.sessions,
            job,
            error=error,
            retryable=retryable,
            now=self.now(),
            policy=self.policy,
            rng=self.rng,
            on_dead=self.registry.dead_hooks.get(job.kind),
        )
        log.warning("job %s (%s) attempt %s failed -> %s", job.id, job.kind, job.attempt, state)

    def run_until_idle(self, *, limit: int | None = None) -> int:
        """Run due jobs until none is due (or `limit` ran, or stop was asked); returns how many ran."""
        ran = 0
        while not self.stop.is_set() and (limit is None or ran < limit) and self.run_one():
            ran += 1
        return ran

    def run_forever(self) -> None:
        while not self.stop.is_set():
            if self._recurring_due():
                try:
                    self.schedule_recurring()
                except Exception:  # the database may be away for a moment; the next check tries again
                    log.exception("scheduling recurring jobs failed")
            if not self.run_one():
                self.stop.wait(self.poll_seconds)
