"""Early-warning alerts: list with their evidence, acknowledge, resolve (督查, leaders, admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from xinfang.alerts import service
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


class AlertNote(BaseModel):
    note: str | None = Field(None, max_length=2000)


@router.get("")
def list_alerts(
    session: SessionDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged|resolved)$")] = None,
    tier: Annotated[str | None, Query(pattern="^(yellow|red)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Alerts, most recently updated first, each with its evidence (methods, statistics, baselines, thresholds,
    p-values / recurrence intervals, contributing petition ids) and its acknowledge/resolve trail."""
    return [
        service.alert_read(a)
        for a in service.list_alerts(session, actor=actor, status=status, tier=tier, limit=limit)
    ]


@router.get("/{alert_id}")
def get_alert(alert_id: int, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return service.alert_read(service.get_alert(session, actor=actor, alert_id=alert_id))


@router.post("/{alert_id}/acknowledge")
def acknowledge(
    alert_id: int, body: AlertNote, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    alert = service.acknowledge_alert(
        session, actor=actor, alert_id=alert_id, now=runtime.clock.now(), note=body.note
    )
    session.commit()
    return service.alert_read(alert)


@router.post("/{alert_id}/resolve")
def resolve(
    alert_id: int, body: AlertNote, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    alert = service.resolve_alert(
        session, actor=actor, alert_id=alert_id, now=runtime.clock.now(), note=body.note or ""
    )
    session.commit()
    return service.alert_read(alert)
