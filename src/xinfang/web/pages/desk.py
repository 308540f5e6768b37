"""The registration desk (登记台): the form; static/js/desk.js analyses as the clerk types and registers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from xinfang.cases.enums import CHANNEL_LABELS, Channel, OrgKind
from xinfang.org.models import OrgUnit
from xinfang.security.permissions import require
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.pages.common import render

router = APIRouter()
DESK_CHANNELS = (Channel.VISIT, Channel.PHONE, Channel.LETTER, Channel.ONLINE)


@router.get("/desk")
def desk(request: Request, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> HTMLResponse:
    require(actor, "petition.create")
    units = list(session.execute(select(OrgUnit).order_by(OrgUnit.code)).scalars())
    townships = [{"code": u.code, "name": u.name} for u in units if u.kind == OrgKind.TOWNSHIP.value]
    villages = [{"code": u.code, "name": u.name} for u in units if u.kind == OrgKind.VILLAGE.value]
    departments = [
        {"code": u.code, "name": u.name}
        for u in units
        if u.kind in (OrgKind.DEPARTMENT.value, OrgKind.TOWNSHIP.value)
    ]
    geo: dict[str, Any] = {"townships": townships, "villages": villages, "departments": departments}
    return render(
        request,
        "desk.html",
        runtime,
        actor,
        desk_channels=[(c.value, CHANNEL_LABELS[c]) for c in DESK_CHANNELS],
        geo=geo,
        departments=departments,
        townships=townships,
    )
