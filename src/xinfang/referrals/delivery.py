"""The outbox handler that delivers referrals (kind `referral.deliver`), registered with the worker at start-up.

Each attempt: read the referral and build the wire bundle in a short transaction, close it, call the platform
(network time holds no database lock), then record the platform's id in another short transaction. The same
idempotency key goes with every attempt, so a retry after a timeout or a crash returns the referral the platform
already has instead of creating a second one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from xinfang.errors import IntegrationError
from xinfang.referrals import service
from xinfang.referrals.adapters import AdapterFactory
from xinfang.referrals.models import Referral
from xinfang.security.crypto import KeyRing
from xinfang.store.db import session_scope
from xinfang.store.jobs import ClaimedJob, JobRegistry


def register(
    registry: JobRegistry,
    *,
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    attachments_dir: Path,
    adapters: AdapterFactory,
    now: Callable[[], datetime],
) -> None:
    def deliver(job: ClaimedJob) -> None:
        referral_id = int(job.payload["referral_id"])
        with session_scope(sessions) as session:
            referral = session.get(Referral, referral_id)
            if referral is None:
                raise IntegrationError("移交记录不存在", code="referral.not_found", retryable=False)
            if referral.remote_id is not None:
                return  # already delivered (a callback or an earlier attempt recorded it)
            platform, key = referral.platform, referral.idempotency_key
            bundle = service.wire_bundle(session, referral, keyring=keyring, attachments_dir=attachments_dir)
        adapter = adapters(platform)
        try:
            remote_id = adapter.send(bundle, key)
        finally:
            close = getattr(adapter, "close", None)
            if close is not None:
                close()
        with session_scope(sessions) as session:
            service.mark_delivered(session, referral_id=referral_id, remote_id=remote_id, now=now())

    def dead(session: Session, job: ClaimedJob, at: datetime) -> None:
        service.mark_delivery_failed(
            session, referral_id=int(job.payload["referral_id"]), error="delivery failed", now=at
        )

    registry.register(service.DELIVER_JOB, deliver, on_dead=dead)
