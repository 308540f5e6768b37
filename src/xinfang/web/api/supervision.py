"""Supervision and accountability: the 三率 and other figures, the backlog register, buck-passing; 督办 and their
answers by the supervised unit (cases.supervision)."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from openpyxl import Workbook
from pydantic import BaseModel, ConfigDict, Field

from xinfang.analytics import accountability as acc
from xinfang.cases import supervision as sv
from xinfang.clock import CHINA_TZ, local_date
from xinfang.errors import InvalidInput
from xinfang.security.actors import Actor
from xinfang.security.permissions import require
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.openapi_docs import files

router = APIRouter(prefix="/api", tags=["supervision"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise InvalidInput("开始日期不能晚于结束日期", code="period.reversed")
    return start, end


def _require_oversight(actor: Actor) -> None:
    require(actor, "oversight.read")


class SupervisionResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    response: str = Field(..., min_length=1, max_length=sv.MAX_RESPONSE, description="the unit's report")
    attach_progress: bool = Field(
        False, description="attach the case's progress now (status, open deadlines, last step)"
    )


@router.get("/petitions/{petition_id}/supervisions")
def petition_supervisions(petition_id: int, session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    """The petition's 督办 (oldest first), each with the supervised unit's answer once given."""
    rows = sv.list_for_petition(session, actor=actor, petition_id=petition_id)
    return [sv.supervision_view(session, s) for s in rows]


@router.post("/supervisions/{supervision_id}/response")
def respond_to_supervision(
    supervision_id: int,
    data: SupervisionResponseIn,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
) -> dict[str, Any]:
    """The supervised unit answers a 督办 (once): the 督办 leaves the 督办 boxes, the case history records the
    answer and the supervisor who issued it is notified. 403 for another unit, 409 if already answered."""
    supervision = sv.respond(
        session,
        actor=actor,
        supervision_id=supervision_id,
        response=data.response,
        attach_progress=data.attach_progress,
        now=runtime.clock.now(),
    )
    session.commit()
    return sv.supervision_view(session, supervision)


@router.get("/accountability", responses=files(XLSX))
def accountability(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    by: Annotated[str, Query(pattern="^(department|township)$")] = "department",
    format: Annotated[str, Query(pattern="^(json|xlsx)$")] = "json",
) -> Any:
    """Per department or township for [from, to]: 及时受理率, 按期办结率, 满意率, 超期, 异议, 转送/件, 重复信访率."""
    _require_oversight(actor)
    today = local_date(runtime.clock.now())
    start, end = _period(start, end, today)
    rows = acc.accountability(session, start=start, end=end, today=today, by=by)
    if format == "xlsx":
        return xlsx_response(rows, acc.COLUMNS, f"accountability-{start}-{end}.xlsx", "问责指标")
    return {"from": start, "to": end, "by": by, "rows": rows}


@router.get("/backlog")
def backlog(session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    """The backlog register (积案) and this year's clearing rate (化解率)."""
    _require_oversight(actor)
    now = runtime.clock.now()
    days = runtime.settings.backlog_days
    today = local_date(now)
    year_start = datetime.combine(date(today.year, 1, 1), time(), CHINA_TZ)
    return {
        "backlog_days": days,
        "items": acc.backlog(session, now=now, backlog_days=days),
        "clearing": acc.clearing_rate(session, start=year_start, end=now, backlog_days=days),
    }


@router.get("/buck-passing")
def buck_passing(session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    """Petitions transferred or objected too often, or bounced between the same two bodies (推诿扯皮)."""
    _require_oversight(actor)
    return acc.buck_passing(session, max_transfers=runtime.settings.buck_passing_transfers)


def xlsx_response(
    rows: list[dict[str, Any]], columns: tuple[tuple[str, str], ...], filename: str, sheet: str
) -> Response:
    """Every table of the app exports the same way: Chinese headers, one row per item, rates as percentages."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append([label for _, label in columns])
    for r in rows:
        ws.append([_cell(key, r.get(key)) for key, _ in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return Response(
        buf.getvalue(), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _cell(key: str, value: Any) -> Any:
    if key.endswith("_rate") and isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, (list, dict)):
        return str(value)
    return value
