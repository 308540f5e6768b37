"""The warning configuration, read-only, for the administrator's 预警规则与推送 page: the scan's thresholds and the
configured push channels with every secret and recipient masked (alerts.config).

Its own router, included before the alerts router: there `/api/alerts/{alert_id}` would otherwise take "rules"
and "channels" for alert ids."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from xinfang.alerts import config
from xinfang.security.permissions import require
from xinfang.web.deps import ActorDep, RuntimeDep

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


@router.get("/rules")
def warning_rules(actor: ActorDep) -> dict[str, Any]:
    """Every threshold of the daily warning scan: group, meaning, value in use, and the setting's name."""
    require(actor, "alert.configure")
    return {"columns": config.RULE_COLUMNS, "items": config.warning_rules()}


@router.get("/channels")
def push_channels(actor: ActorDep, runtime: RuntimeDep) -> dict[str, Any]:
    """The push channels (XINFANG_ALERT_CHANNELS, in-app always first): type, tiers, masked address and
    recipients, and which secrets are set — never their values."""
    require(actor, "alert.configure")
    return {
        "columns": config.CHANNEL_COLUMNS,
        "items": config.channel_summaries(runtime.settings.alert_channels),
    }
