"""What follows registration, off the request's path: repeat links, the hot matter, the prevention-ledger link.

Intake must answer at once even in a mass event, when a hundred near-identical calls arrive within the hour and
each would otherwise compare itself with the others inside the request. So registration does only what decides
the petition's route — the 三级终结 check (a repeat of a final matter is never forwarded automatically) — and
queues one `petition.enrich` job in the same transaction (the outbox: nothing is lost if the process dies). A
worker runs the job within seconds.

The job is idempotent (`Petition.enriched_at`) and holds a named lock from its start (`store.locks`: an advisory
lock on PostgreSQL; SQLite serialises writers anyway), so enrichments run one at a time however many workers there
are, and each sees what the previous one committed; jobs taken out of order still link both ways (see
`dispatch.repeats.link_repeats`). Not the audit chain's head: that row is locked last, at commit, by every writer
(`security.audit.record`); locked first here it would deadlock with a transaction that holds a petition this job
links to and waits for the head to commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xinfang.cases.models import Petition
from xinfang.dispatch import repeats
from xinfang.hotspots.service import assign_petition
from xinfang.prevention.linking import link_petition
from xinfang.store import locks
from xinfang.store.db import session_scope
from xinfang.store.jobs import ClaimedJob, JobRegistry, enqueue

ENRICH_JOB = "petition.enrich"
ENRICH_LOCK = "petition.enrich"


def on_registered(session: Session, petition: Petition, now: datetime) -> None:
    """The intake hook (IntakeContext.on_registered): the route-deciding check now, the rest queued."""
    repeats.recognise_final_repeat(session, petition=petition, now=now)
    enqueue(session, kind=ENRICH_JOB, payload={"petition_id": petition.id}, now=now, max_attempts=5)


def enrich(session: Session, *, petition: Petition, now: datetime) -> bool:
    """Link repeats, assign the hot matter, link the ledger; False if it was done already (a retried job)."""
    locks.hold(session, ENRICH_LOCK)
    session.refresh(petition, ["enriched_at"])
    if petition.enriched_at is not None:
        return False
    repeats.link_repeats(session, petition=petition, now=now)
    session.flush()
    assign_petition(session, petition=petition, now=now)  # after repeats: it may upgrade a link to "both"
    link_petition(session, petition=petition, now=now)
    petition.enriched_at = now
    return True


def enrich_pending(session: Session, *, now: datetime, limit: int | None = None) -> int:
    """Enrich, oldest first, the petitions still waiting: for a bulk load that must see its own links and matters
    in the same transaction (the demo). Their queued jobs then find the work done."""
    q = select(Petition).where(Petition.enriched_at.is_(None)).order_by(Petition.id)
    if limit:
        q = q.limit(limit)
    return sum(enrich(session, petition=p, now=min(now, p.registered_at)) for p in session.scalars(q).all())


def register(registry: JobRegistry, *, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
    def handle(job: ClaimedJob) -> None:
        with session_scope(sessions) as session:
            petition = session.get(Petition, int(job.payload["petition_id"]))
            if petition is not None:  # deleted since (a purge of test data): nothing to do
                enrich(session, petition=petition, now=now())

    registry.register(ENRICH_JOB, handle)
