"""Staff pages of the prevention slice, kept few: the ledger overview (entries, where early resolution failed, the risk
assessment register with its flags) and the grid reporting page for phones. The lead wires them into the top
navigation; until then they are reached at /prevention and /prevention/grid.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import select

from xinfang.cases.enums import OrgKind
from xinfang.clock import local_date
from xinfang.errors import XinfangError
from xinfang.org.models import OrgUnit
from xinfang.prevention import grid, ledger, linking, risk
from xinfang.security.permissions import require
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.pages.common import FormActorDep, render

router = APIRouter(include_in_schema=False)


@router.get("/prevention")
def overview(request: Request, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> HTMLResponse:
    require(actor, "prevention.read")
    today = local_date(runtime.clock.now())
    entries = [ledger.entry_view(e, today) for e in ledger.list_entries(session, actor=actor, today=today)]
    return render(
        request,
        "prevention_ledger.html",
        runtime,
        actor,
        entries=entries,
        failures=linking.failures(session, actor=actor),
        projects=risk.list_projects(session, actor=actor, today=today),
        today=today,
    )


def _villages(session: SessionDep, actor: Any) -> list[tuple[str, str]]:
    q = select(OrgUnit).where(OrgUnit.kind == OrgKind.VILLAGE).order_by(OrgUnit.code)
    if actor.township_code:
        q = q.where(OrgUnit.code.startswith(actor.township_code))
    units = list(session.execute(q).scalars())
    towns = {
        u.code: u.name
        for u in session.execute(select(OrgUnit).where(OrgUnit.kind == OrgKind.TOWNSHIP)).scalars()
    }
    return [(u.code, f"{towns.get(u.code[:9], '')}{u.name}") for u in units]


def _grid_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, actor: Any, status: int = 200, **ctx: Any
) -> HTMLResponse:
    response = render(
        request,
        "prevention_grid.html",
        runtime,
        actor,
        villages=_villages(session, actor),
        levels=ledger.RISK_LEVELS,
        kinds=ledger.KINDS,
        **ctx,
    )
    response.status_code = status
    return response


@router.get("/prevention/grid")
def grid_form(request: Request, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> HTMLResponse:
    require(actor, "prevention.write")
    return _grid_page(request, session, runtime, actor, error=None, done=None)


@router.post("/prevention/grid")
async def grid_submit(
    request: Request, session: SessionDep, runtime: RuntimeDep, actor: FormActorDep
) -> HTMLResponse:
    form = await request.form()
    text = {k: v for k, v in form.items() if isinstance(v, str)}
    photo = form.get("photo")
    data: bytes | None = None
    name = "photo.jpg"
    limit = runtime.settings.max_upload_bytes
    if photo is not None and not isinstance(photo, str):
        data = await photo.read(limit + 1) or None
        name = photo.filename or name
    try:
        report_in = grid.GridReportIn(
            title=text.get("title", ""),
            summary=text.get("summary", ""),
            kind=text.get("kind") or "其他",
            risk_level=text.get("risk_level") or "低",
            parties=ledger.split_parties(text.get("parties")),
            division_code=text.get("division_code") or None,
            lng=float(text["lng"]) if text.get("lng") else None,
            lat=float(text["lat"]) if text.get("lat") else None,
            register_petition=text.get("register_petition") == "yes",
        )
        entry = grid.report(
            session,
            actor=actor,
            data=report_in,
            now=runtime.clock.now(),
            attachments_dir=runtime.settings.attachments_dir,
            max_bytes=limit,
            intake=runtime.intake_context(session),
            photo=data,
            photo_name=name,
        )
        petition = getattr(entry, "new_petition", None)
        done = {
            "entry_id": entry.id,
            "due_on": entry.due_on,
            "petition_number": petition.number if petition else None,
            "query_code": getattr(petition, "new_query_code", None) if petition else None,
        }
        session.commit()
    except (ValidationError, ValueError) as exc:
        session.rollback()
        message = "请检查填写内容" + (
            f":{exc.errors()[0].get('msg', '')}" if isinstance(exc, ValidationError) else ""
        )
        return _grid_page(request, session, runtime, actor, status=422, error=message, done=None)
    except XinfangError as exc:
        session.rollback()
        return _grid_page(
            request, session, runtime, actor, status=exc.http_status, error=exc.message, done=None
        )
    return _grid_page(request, session, runtime, actor, error=None, done=done)


def _all_routes() -> APIRouter:
    """The slice's API, these pages and the public submission page, for one include in web/app.py."""
    from xinfang.web import public_submit
    from xinfang.web.api import prevention as prevention_api

    combined = APIRouter()
    combined.include_router(prevention_api.router)
    combined.include_router(router)
    combined.include_router(public_submit.router)
    return combined


all_routes = _all_routes()
