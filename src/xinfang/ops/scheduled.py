"""The daily and periodic tasks: one function each, run by the job worker on its schedule and by the CLI on demand.

Why one function shared by both: `xinfang worker` runs these tasks itself, so a deployment needs no cron; a site
that prefers cron switches the worker's schedule off (`XINFANG_SCHEDULE_ENABLED=false`) and runs the CLI commands
(`xinfang clocks remind`, `alerts scan`, `alerts deliver`, `review run`, `prevention remind`, `referrals poll`).
Both paths must do exactly the same work with the same settings and actor, so both call the functions below, which
only wire the Runtime into the slices' services.

Every task is safe to run again, which the at-least-once worker needs (a worker killed after the work but before
`done` leads to a second run): reminders keep one notification per key (`clock:<id>:<state>`, `ledger:<id>:...`),
the scan updates the open alert of a situation instead of opening another and enqueues a push per alert, tier and
channel once, a delivery is claimed by a conditional UPDATE, a case is reviewed once per rules version, and a polled
status that is already applied changes nothing.

The schedule (times are China local time, from Settings): the four daily tasks at a morning hour, each the job of
its day (`Recurring.daily_at`, key `<kind>@<period start>`); `alerts deliver` and `referrals poll` every N minutes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from xinfang.clock import CHINA_TZ, local_date
from xinfang.store.jobs import ClaimedJob, Handler, JobRegistry, Recurring

if TYPE_CHECKING:
    from xinfang.alerts.service import DeliveryReport, ScanReport
    from xinfang.analytics.warning.combine import WarningConfig
    from xinfang.config import Settings
    from xinfang.runtime import Runtime

log = logging.getLogger("xinfang.scheduled")

CLOCKS_REMIND = "clocks.remind"
ALERTS_SCAN = "alerts.scan"
ALERTS_DELIVER = "alerts.deliver"
REVIEW_RUN = "review.run"
PREVENTION_REMIND = "prevention.remind"
REFERRALS_POLL = "referrals.poll"
REVIEW_BATCH = 200  # cases per transaction of the daily review (~2 s each on the demo county)
KINDS = (CLOCKS_REMIND, ALERTS_SCAN, ALERTS_DELIVER, REVIEW_RUN, PREVENTION_REMIND, REFERRALS_POLL)


# ---- the tasks (the CLI commands call these too) -------------------------------------------------------------


def clocks_remind(rt: Runtime) -> dict[str, int]:
    """Units are told of their due-soon and overdue statutory steps, once per clock and state."""
    from xinfang.cases.reminders import remind

    with rt.session() as session:
        return remind(session, now=rt.clock.now())


def alerts_scan(
    rt: Runtime, *, day: date | None = None, config: WarningConfig | None = None, county: str | None = None
) -> ScanReport:
    """The warning scan of `day` (default: the local day before now); new or escalated alerts queue their pushes."""
    from xinfang.alerts.service import run_warning_scan

    with rt.session() as session:
        return run_warning_scan(
            session,
            now=rt.clock.now(),
            config=config,
            day=day,
            channels=rt.settings.alert_channels,
            county=county,
        )


def alerts_deliver(rt: Runtime) -> DeliveryReport:
    """Send the due pushes once; failed ones wait for their back-off and are retried by a later run."""
    from xinfang.alerts.service import deliver_pending

    with rt.session() as session:
        return deliver_pending(
            session,
            now=rt.clock.now(),
            channels=rt.settings.alert_channels,
            base_url=rt.settings.public_base_url,
        )


def review_run(rt: Runtime, *, limit: int | None = None, batch: int = REVIEW_BATCH) -> dict[str, Any]:
    """案件评查 of every concluded case not yet reviewed by the current rules version (at most `limit`), as the system.

    In batches of `batch` cases, one transaction each: on SQLite a transaction holds the database's only write lock,
    and the first run over years of concluded cases (at the first start of the worker, in working hours) would keep
    every clerk's save waiting (the demo county's 1,537 cases take 17 s). The reply corpus is built once: reviews do
    not change the stored replies. `mean_score` is the batches' means weighted by their sizes (each rounded to 0.01)."""
    from xinfang.review.rules import RULES_VERSION
    from xinfang.review.service import build_corpus, review_concluded
    from xinfang.security.actors import SYSTEM

    if batch < 1:
        raise ValueError("batch must be positive")
    with rt.session() as session:
        corpus = build_corpus(session)
    reviewed = below = 0
    weighted = 0.0
    while limit is None or reviewed < limit:
        size = batch if limit is None else min(batch, limit - reviewed)
        with rt.session() as session:
            part = review_concluded(session, actor=SYSTEM, now=rt.clock.now(), limit=size, corpus=corpus)
        reviewed += part["reviewed"]
        below += part["below_threshold"]
        weighted += (part["mean_score"] or 0) * part["reviewed"]
        if part["reviewed"] < size:
            break
    return {
        "reviewed": reviewed,
        "rules_version": RULES_VERSION,
        "mean_score": round(weighted / reviewed, 2) if reviewed else None,
        "below_threshold": below,
    }


def prevention_remind(rt: Runtime, *, escalate_after_days: int | None = None) -> dict[str, int]:
    """Ledger entries and co-handling tasks due soon or overdue notify their units; long-overdue entries escalate."""
    from xinfang.prevention.ledger import ESCALATE_AFTER_DAYS, remind

    days = ESCALATE_AFTER_DAYS if escalate_after_days is None else escalate_after_days
    with rt.session() as session:
        return remind(session, now=rt.clock.now(), escalate_after_days=days)


def referrals_poll(rt: Runtime) -> dict[str, int]:
    """Ask the platforms for the status of every open referral (the fallback for missed callbacks)."""
    from xinfang.referrals.adapters import adapter_factory
    from xinfang.referrals.service import poll

    return poll(
        rt.sessions,
        adapters=adapter_factory(rt.settings.referral_platforms, now=rt.clock.now),
        now=rt.clock.now,
        ctx=rt.procedure,
    )


# ---- the schedule ------------------------------------------------------------------------------------------------


def recurring(settings: Settings) -> tuple[Recurring, ...]:
    """The periods of the tasks, or none where the site runs them from cron. The frequent two are tried once per
    period (the next period is their retry); the daily ones up to three times."""
    if not settings.schedule_enabled:
        return ()
    s = settings
    return (
        Recurring.daily_at(CLOCKS_REMIND, s.schedule_clocks_remind_at, tz=CHINA_TZ),
        Recurring.daily_at(ALERTS_SCAN, s.schedule_alerts_scan_at, tz=CHINA_TZ),
        Recurring.daily_at(REVIEW_RUN, s.schedule_review_run_at, tz=CHINA_TZ),
        Recurring.daily_at(PREVENTION_REMIND, s.schedule_prevention_remind_at, tz=CHINA_TZ),
        Recurring(ALERTS_DELIVER, timedelta(minutes=s.schedule_alerts_deliver_minutes), max_attempts=1),
        Recurring(REFERRALS_POLL, timedelta(minutes=s.schedule_referrals_poll_minutes), max_attempts=1),
    )


def day_before_period(job: ClaimedJob) -> date | None:
    """The local day before the job's period started: the day a daily scan covers even when it runs late (a worker
    that was down, a retry). None for a job enqueued without a period (then the task's own default applies)."""
    period = job.payload.get("period")
    if not period:
        return None
    return local_date(datetime.fromisoformat(period)) - timedelta(days=1)


def register(registry: JobRegistry, rt: Runtime) -> None:
    """The handlers of the tasks; registered whether or not the schedule is on (a job already queued still runs)."""

    def logged(kind: str, task: Any) -> Handler:
        def run(job: ClaimedJob) -> None:
            result = task(job)
            log.info("%s done: %s", kind, result)  # counts only

        return run

    def scan_then_deliver(job: ClaimedJob) -> dict[str, Any]:
        scanned = alerts_scan(rt, day=day_before_period(job))
        return {"scan": scanned.to_dict(), "deliver": asdict(alerts_deliver(rt))}

    tasks: dict[str, Any] = {
        CLOCKS_REMIND: lambda job: clocks_remind(rt),
        ALERTS_SCAN: scan_then_deliver,
        ALERTS_DELIVER: lambda job: asdict(alerts_deliver(rt)),
        REVIEW_RUN: lambda job: review_run(rt),
        PREVENTION_REMIND: lambda job: prevention_remind(rt),
        REFERRALS_POLL: lambda job: referrals_poll(rt),
    }
    for kind, task in tasks.items():
        registry.register(kind, logged(kind, task))
