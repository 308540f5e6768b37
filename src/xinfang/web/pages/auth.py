"""Login and logout with the session cookie; the home page sends each role to where its work starts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xinfang.cases.enums import Role
from xinfang.errors import AuthenticationFailed
from xinfang.org import service as org_service
from xinfang.web import csrf
from xinfang.web.deps import SESSION_COOKIE, OptionalActorDep, RuntimeDep, SessionDep
from xinfang.web.pages.common import render

router = APIRouter()

HOME_BY_ROLE = {
    Role.REGISTRAR: "/desk",
    Role.HANDLER: "/inbox",
    Role.SUPERVISOR: "/inbox",
    Role.LEADER: "/dashboard",
    Role.ADMIN: "/inbox",
}


@router.get("/")
def home(actor: OptionalActorDep) -> Response:
    return RedirectResponse(
        HOME_BY_ROLE.get(actor.role, "/petitions") if actor else "/login", status_code=303
    )


@router.get("/login")
def login_page(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return render(request, "login.html", runtime, error=None)


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
        response = render(request, "login.html", runtime, error=exc.message)
        response.status_code = 401
        return response
    token = org_service.issue_token(session, user=user, now=now, ttl=runtime.token_ttl)
    session.commit()
    response = RedirectResponse("/", status_code=303)
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
async def logout(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        form = await request.form()
        supplied = form.get(csrf.FIELD)
        csrf.check(token, supplied if isinstance(supplied, str) else None)
        org_service.revoke_token(session, token=token, now=runtime.clock.now())
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
