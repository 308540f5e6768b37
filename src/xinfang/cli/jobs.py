"""Background work: `xinfang worker` runs the job/outbox loop; `xinfang jobs list|retry` for operators."""

from __future__ import annotations

import json
import logging
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
    return registry


def make_worker(rt: Runtime) -> Any:
    from xinfang.store.jobs import RetryPolicy, Worker

    s = rt.settings
    return Worker(
        sessions=rt.sessions,
        registry=build_registry(rt),
        now=rt.clock.now,
        worker_id=f"{socket.gethostname()}:{os.getpid()}",
        lease=timedelta(seconds=s.job_lease_seconds),
        policy=RetryPolicy(base_seconds=s.job_backoff_seconds, max_seconds=s.job_backoff_max_seconds),
        poll_seconds=s.worker_poll_seconds,
    )


@handles_errors
def worker(
    db: DbOption = None,
    once: Annotated[bool, typer.Option("--once", help="run the jobs due now, then exit")] = False,
) -> None:
    """Run the job worker (deliveries with retries). SIGTERM/SIGINT: finish the current job, then exit."""
    from xinfang.cli.admin import runtime_for

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    rt = runtime_for(db)
    w = make_worker(rt)

    def stop(signum: int, _frame: Any) -> None:
        w.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if once:
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
