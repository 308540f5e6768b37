"""Writing the petition's event history (the timeline supervisors and petitioners read)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from xinfang.cases.models import Event, Petition
from xinfang.security.actors import Actor


def add_event(
    session: Session,
    *,
    petition: Petition,
    kind: str,
    actor: Actor,
    at: datetime,
    summary: str,
    details: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        petition=petition, kind=kind, at=at, actor_id=actor.user_id, summary=summary, details=details or {}
    )
    session.add(event)
    return event
