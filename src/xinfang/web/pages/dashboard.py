"""The leadership dashboard (大屏): heat map, trend, categories, hot matters, the 三率, alerts; drill-down to cases.

The page embeds its own overview figures; the browser module (static/js/dashboard.js) asks the analytics API
(/api/analytics/heatmap, /hot-matters, /api/alerts) and falls back to /dashboard/heat.json or a 暂无数据 panel.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from xinfang.clock import local_date
from xinfang.dashboard import service as dash
from xinfang.security.permissions import require
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.pages.common import render

router = APIRouter()


def _period(runtime: RuntimeDep, start: date | None, end: date | None) -> tuple[date, date]:
    end = end or local_date(runtime.clock.now())
    start = start or (end.replace(day=1) - timedelta(days=335)).replace(day=1)
    return start, end


@router.get("/dashboard")
def dashboard(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> HTMLResponse:
    require(actor, "oversight.read")
    start, end = _period(runtime, start, end)
    data = dash.overview(session, actor=actor, start=start, end=end)
    data["forecast"] = dash.forecast_outlook(session, actor=actor, today=local_date(runtime.clock.now()))
    return render(request, "dashboard.html", runtime, actor, data=data, start=start, end=end)


@router.get("/dashboard/heat.json")
def heat(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    level: Annotated[str, Query(pattern="^(township|village)$")] = "township",
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """The heat map from the dashboard's own counts, in the analytics API's GeoJSON contract (fallback)."""
    start, end = _period(runtime, start, end)
    data = dash.overview(session, actor=actor, start=start, end=end)
    counts = data["townships"] if level == "township" else data["villages"]
    return dash.heat_geojson(session, counts=counts, level=level)
