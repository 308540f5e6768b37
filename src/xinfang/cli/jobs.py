"""Background work: `xinfang worker` runs the job/outbox loop and schedules the recurring tasks (the daily purge of
done jobs; the reminders, warning scan, review and polling of `xinfang.ops.scheduled` unless
XINFANG_SCHEDULE_ENABLED=false); `xinfang jobs list|retry|purge` for operators."""

from __future__ import annotations

import json
import os
import signal
import socket
from datetime import timedelta
from typing import Annotated, Any

import typer

from xinfang.cli import DbOption, handles_errors
from xinfang.runtime import Runtime

jobs_app = typer.Typer(help="Background jobs and the outbox: the dead-letter queue.", no_args_is_help=True)


def build_registry(rt: Runtime) -> Any:
    """Every slice's job handlers, registered here at start-up (never at import)."""
    from xinfang.referrals import delivery
    from xinfang.referrals.adapters import adapter_factory
    from xinfang.store.jobs import JobRegistry

    registry = JobRegistry()
    delivery.register(
        registry,
        sessions=rt.sessions,
        keyring=rt.keyring,
        attachments_dir=rt.settings.attachments_dir,
        adapters=adapter_factory(rt.settings.referral_platforms, now=rt.clock.now),
        now=rt.clock.now,
    )
    from xinfang.intake import letters

    letters.register(
        registry,
        sessions=rt.sessions,
        keyring=rt.keyring,
        attachments_dir=rt.settings.attachments_dir,
        analyser_for=rt.intake_analyser,
        now=rt.clock.now,
    )
    from xinfang.intake import enrichment

    enrichment.register(registry, sessions=rt.sessions, now=rt.clock.now)
    from xinfang.store.jobs import register_purge

    register_purge(
        registry,
        sessions=rt.sessions,
        retention=timedelta(days=rt.settings.job_retention_days),
        batch_size=rt.settings.job_purge_batch,
        now=rt.clock.now,
    )
    from xinfang.ops import scheduled

    scheduled.register(registry, rt)
    return registry


def make_worker(rt: Runtime) -> Any:
    from xinfang.ops import scheduled
    from xinfang.store.jobs import PURGE_JOB, Recurring, RetryPolicy, Worker

    s = rt.settings
    return Worker(
        sessions=rt.sessions,
        registry=build_registry(rt),
        now=rt.clock.now,
        worker_id=f"{socket.gethostname()}:{os.getpid()}",
        lease=timedelta(seconds=s.job_lease_seconds),
        policy=RetryPolicy(base_seconds=s.job_backoff_seconds, max_seconds=s.job_backoff_max_seconds),
        poll_seconds=s.worker_poll_seconds,
        # each once per period, whichever worker comes first; checked every minute (one indexed lookup per kind)
        recurring=(Recurring(PURGE_JOB), *scheduled.recurring(s)),
        recurring_check=timedelta(minutes=1),
    )


@handles_errors
def worker(
    db: DbOption = None,
    once: Annotated[bool, typer.Option("--once", help="run the jobs due now, then exit")] = False,
) -> None:
    """Run the job worker (deliveries with retries, the daily reminders, warning scan and review, polling).
    SIGTERM/SIGINT: finish the current job, then exit."""
    import threading

    from xinfang.cli.admin import runtime_for
    from xinfang.ops.logs import configure_logging

    # Handlers first: a stop asked for while the worker is still loading is kept, not fatal (SIGTERM's default).
    stop_requested = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    rt = runtime_for(db)
    configure_logging(rt.settings)  # JSON lines, personal numbers masked; also to XINFANG_LOG_DIR if set
    w = make_worker(rt)
    w.stop = stop_requested
    try:
        if once:
            w.schedule_recurring()
            ran = w.run_until_idle()
            typer.echo(json.dumps({"ran": ran}))
        else:
            typer.echo(f"worker {w.worker_id} started", err=True)
            w.run_forever()
            typer.echo(f"worker {w.worker_id} stopped", err=True)
    finally:
        rt.dispose()


@jobs_app.command("list")
@handles_errors
def jobs_list(
    db: DbOption = None,
    state: Annotated[str | None, typer.Option(help="pending | running | done | dead")] = None,
    kind: Annotated[str | None, typer.Option(help="e.g. referral.deliver")] = None,
    limit: int = 100,
) -> None:
    """List jobs (newest first) as JSON lines, and the counts by state."""
    from xinfang.cli.admin import runtime_for
    from xinfang.store import jobs

    rt = runtime_for(db)
    with rt.session() as session:
        for job in jobs.list_jobs(session, state=state, kind=kind, limit=limit):
            typer.echo(json.dumps(jobs.job_view(job), default=str, ensure_ascii=False))
        typer.echo(json.dumps({"counts": jobs.counts(session)}), err=True)


@jobs_app.command("retry")
@handles_errors
def jobs_retry(job_id: int, db: DbOption = None) -> None:
    """Send a dead-lettered job again (a fresh set of attempts from now); audited as the system operator."""
    from xinfang.cli.admin import runtime_for
    from xinfang.security import audit
    from xinfang.security.actors import SYSTEM
    from xinfang.store import jobs

    rt = runtime_for(db)
    now = rt.clock.now()
    with rt.session() as session:
        job = jobs.retry(session, job_id=job_id, now=now)
        audit.record(session, actor=SYSTEM, action="job.retry", at=now, object_type="job", object_id=job.id)
    typer.echo(f"job {job_id} pending again")


@jobs_app.command("purge")
@handles_errors
def jobs_purge(
    db: DbOption = None,
    older_than_days: Annotated[
        int | None,
        typer.Option("--older-than-days", min=0, help="default: XINFANG_JOB_RETENTION_DAYS (30)"),
    ] = None,
) -> None:
    """Delete done jobs that finished more than N days ago, in batches. Dead-lettered jobs are never deleted."""
    from xinfang.cli.admin import runtime_for
    from xinfang.security import audit
    from xinfang.security.actors import SYSTEM
    from xinfang.store import jobs

    rt = runtime_for(db)
    try:
        days = rt.settings.job_retention_days if older_than_days is None else older_than_days
        now = rt.clock.now()
        before = now - timedelta(days=days)
        deleted = jobs.purge_done(rt.sessions, finished_before=before, batch_size=rt.settings.job_purge_batch)
        with rt.session() as session:
            audit.record(
                session,
                actor=SYSTEM,
                action="job.purge",
                at=now,
                object_type="job",
                details={"deleted": deleted, "older_than_days": days},
            )
            left = jobs.counts(session)
    finally:
        rt.dispose()
    typer.echo(json.dumps({"deleted": deleted, "older_than_days": days, "counts": left}))
