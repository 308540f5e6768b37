"""The registration desk (登记台): the form; static/js/desk.js analyses as the clerk types and registers.

The buttons are the user's `desk.service.desk_decisions`: the bureau's clerk 登记并转送 / 登记,待审核分派; a
department's or township's handler, whose unit holds what it registers, 登记并受理 / 登记,待受理 (no 转送单位);
the administrator only 登记,待审核分派.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from xinfang.cases.enums import CHANNEL_LABELS, Channel, OrgKind
from xinfang.cases.service import holds_what_it_registers
from xinfang.desk.service import desk_decisions
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
    held = holds_what_it_registers(actor)
    own_unit = session.get(OrgUnit, actor.org_unit_id) if held and actor.org_unit_id else None
    return render(
        request,
        "desk.html",
        runtime,
        actor,
        desk_channels=[(c.value, CHANNEL_LABELS[c]) for c in DESK_CHANNELS],
        geo=geo,
        departments=departments,
        townships=townships,
        decisions=desk_decisions(actor),
        own_unit=own_unit.name if own_unit else None,
    )
