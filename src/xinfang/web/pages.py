"""Server-rendered Chinese pages: login, the petition list and a petition's page.

They call the same services as the API; the full registration desk, inboxes and dashboard come later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from xinfang.cases import service
from xinfang.cases.enums import CHANNEL_LABELS, ROLE_LABELS, STATUS_LABELS, Channel, Role, Status
from xinfang.clock import CHINA_TZ, local_date
from xinfang.errors import AuthenticationFailed
from xinfang.org import service as org_service
from xinfang.web.deps import SESSION_COOKIE, ActorDep, OptionalActorDep, RuntimeDep, SessionDep
from xinfang.web.presenters import petition_read

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.globals.update(
    channel_label=lambda v: CHANNEL_LABELS.get(Channel(v), v) if v in Channel._value2member_map_ else v,
    status_label=lambda v: STATUS_LABELS.get(Status(v), v) if v in Status._value2member_map_ else v,
    role_label=lambda v: ROLE_LABELS.get(Role(v), v) if v in Role._value2member_map_ else v,
    local_time=lambda dt: dt.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if dt else "",
    channels=CHANNEL_LABELS,
    statuses=STATUS_LABELS,
)

router = APIRouter(include_in_schema=False)


def _render(request: Request, name: str, runtime: RuntimeDep, **context: object) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"demo": runtime.settings.demo_label, **context})


@router.get("/")
def home(actor: OptionalActorDep) -> Response:
    return RedirectResponse("/petitions" if actor else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return _render(request, "login.html", runtime, error=None)


@router.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    now = runtime.clock.now()
    try:
        user = org_service.authenticate(session, username=username, password=password, now=now)
    except AuthenticationFailed as exc:
        session.commit()
        response = _render(request, "login.html", runtime, error=exc.message)
        response.status_code = 401
        return response
    token = org_service.issue_token(session, user=user, now=now, ttl=runtime.token_ttl)
    session.commit()
    response = RedirectResponse("/petitions", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=runtime.settings.environment == "production",
        max_age=runtime.settings.token_ttl_minutes * 60,
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        org_service.revoke_token(session, token=token, now=runtime.clock.now())
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/petitions")
def petition_list(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    status: str | None = None,
    channel: str | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    filters = service.PetitionFilter(status=status or None, channel=channel or None, q=q or None)
    rows, total = service.list_petitions(session, actor=actor, filters=filters, page=page, page_size=30)
    return _render(
        request,
        "petitions.html",
        runtime,
        actor=actor,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // 30)),
        filters={"status": status or "", "channel": channel or "", "q": q or ""},
    )


@router.get("/petitions/{petition_id}")
def petition_page(
    petition_id: int, request: Request, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> HTMLResponse:
    petition = service.get_petition(session, actor=actor, petition_id=petition_id)
    service.record_read(session, actor=actor, petition=petition, now=runtime.clock.now())
    view = petition_read(session, petition, today=local_date(runtime.clock.now()))
    session.commit()
    return _render(request, "petition.html", runtime, actor=actor, p=view)
