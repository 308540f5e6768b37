"""Analytics: the heat map (GeoJSON, PNG, SVG), hot matters, key petitioners, forecast and the monthly report.

Every table also exports as XLSX (`?format=xlsx`), the same way as the supervision tables.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from xinfang.analytics import forecast as fc
from xinfang.analytics import heatmap as hm
from xinfang.analytics.key_petitioners import COLUMNS as KEY_COLUMNS
from xinfang.analytics.key_petitioners import list_key_petitioners
from xinfang.analytics.report import monthly_report
from xinfang.clock import CHINA_TZ, local_date
from xinfang.hotspots.service import COLUMNS as MATTER_COLUMNS
from xinfang.hotspots.service import MatterQuery, list_hot_matters
from xinfang.web.api.supervision import xlsx_response
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.openapi_docs import XLSX, files

router = APIRouter(prefix="/api/analytics", tags=["analytics"])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]
Level = Annotated[str, Query(pattern="^(township|village)$")]
Format = Annotated[str, Query(pattern="^(json|xlsx)$")]


def _filter(
    runtime: Any, start: date | None, end: date | None, category: str | None, source: str | None
) -> Any:
    period = hm.period(start, end, today=local_date(runtime.clock.now()))
    return hm.HeatFilter(period, category or None, source or None)


@router.get("/heatmap", responses=files(XLSX))
def heatmap(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    level: Level = "township",
    start: From = None,
    end: To = None,
    category: str | None = None,
    source: str | None = None,
    format: Format = "json",
) -> Any:
    """GeoJSON FeatureCollection: townships as polygons, villages as points; properties code, name, count,
    distinct_count (cross-source and repeat duplicates collapsed), population, rate_per_10k."""
    flt = _filter(runtime, start, end, category, source)
    cells = hm.heat_cells(session, actor=actor, level=level, flt=flt)
    if format == "xlsx":
        name = f"heatmap-{level}-{flt.period.start_on}-{flt.period.end_on}.xlsx"
        return xlsx_response([c.to_dict() for c in cells], hm.COLUMNS, name, "热力图")
    return hm.to_geojson(cells, level=level, flt=flt)


def _image(session: Any, runtime: Any, actor: Any, level: str, flt: Any, fmt: str) -> Response:
    cells = hm.heat_cells(session, actor=actor, level=level, flt=flt)
    body = hm.render_map(cells, level=level, flt=flt, fmt=fmt)
    return Response(body, media_type="image/png" if fmt == "png" else "image/svg+xml")


@router.get("/heatmap.png", response_class=Response, responses=files("image/png"))
def heatmap_png(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    level: Level = "township",
    start: From = None,
    end: To = None,
    category: str | None = None,
    source: str | None = None,
) -> Response:
    return _image(session, runtime, actor, level, _filter(runtime, start, end, category, source), "png")


@router.get("/heatmap.svg", response_class=Response, responses=files("image/svg+xml"))
def heatmap_svg(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    level: Level = "township",
    start: From = None,
    end: To = None,
    category: str | None = None,
    source: str | None = None,
) -> Response:
    return _image(session, runtime, actor, level, _filter(runtime, start, end, category, source), "svg")


def _bounds(runtime: Any, start: date | None, end: date | None, days: int) -> tuple[datetime, datetime]:
    period = hm.period(start, end, today=local_date(runtime.clock.now()), default_days=days)
    return period.start_at, period.end_at


@router.get("/hot-matters", responses=files(XLSX))
def hot_matters(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    start: From = None,
    end: To = None,
    min_size: Annotated[int, Query(ge=1, le=1000)] = 2,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    format: Format = "json",
) -> Any:
    """Matters (clusters of petitions about one estate, factory, wage dispute ...) ranked by heat."""
    start_at, end_at = _bounds(runtime, start, end, 90)
    now = runtime.clock.now()
    items = list_hot_matters(
        session, actor=actor, query=MatterQuery(start_at, end_at, min_size, limit), now=min(now, end_at)
    )
    if format == "xlsx":
        return xlsx_response(items, MATTER_COLUMNS, "hot-matters.xlsx", "热点事项")
    return {
        "from": start_at.astimezone(CHINA_TZ).date(),
        "to": (end_at - timedelta(days=1)).astimezone(CHINA_TZ).date(),
        "items": items,
    }


@router.get("/key-petitioners", responses=files(XLSX))
def key_petitioners(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    start: From = None,
    end: To = None,
    format: Format = "json",
) -> Any:
    """重点人员 (supervisor, leader, admin only; every view audited; personal data masked)."""
    start_at, end_at = _bounds(runtime, start, end, 365)
    items = list_key_petitioners(
        session, actor=actor, start_at=start_at, end_at=end_at, now=runtime.clock.now()
    )
    session.commit()  # the audit entry of this view
    if format == "xlsx":
        return xlsx_response(items, KEY_COLUMNS, "key-petitioners.xlsx", "重点人员")
    return {"items": items}


@router.get("/forecast", responses=files(XLSX))
def forecast(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    format: Format = "json",
) -> Any:
    """Expected petitions per township and category for `month` (default: next month) with a 90% interval, beside
    the actual count where the month has begun."""
    today = local_date(runtime.clock.now())
    target = fc.parse_month(month) if month else fc.month_index(today) + 1
    result = fc.forecast_month(session, actor=actor, target=target, today=today)
    if format == "xlsx":
        return xlsx_response(result["rows"], fc.COLUMNS, f"forecast-{result['month']}.xlsx", "预测")
    return result


@router.get("/report.docx", response_class=Response, responses=files(DOCX))
def report_docx(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> Response:
    """信访形势分析报告 for `month` (default: last month) as .docx."""
    now = runtime.clock.now()
    target = fc.parse_month(month) if month else fc.month_index(local_date(now)) - 1
    from xinfang.org.geography import county_name

    county = county_name(session) or _county_name()  # the imported county, else the demo county
    body = monthly_report(session, actor=actor, month=target, now=now, county_name=county)
    session.commit()  # the audit entry
    name = f"report-{fc.month_start(target):%Y-%m}.docx"
    return Response(body, media_type=DOCX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _county_name() -> str:
    from xinfang.org.loader import read_county

    try:
        return str(read_county()["county"]["name"])
    except (KeyError, TypeError, OSError):
        return "本县"
