"""Login (password, then the TOTP code where the user has one) and logout with the session cookie; the home page
sends each role to where its work starts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xinfang.cases.enums import Role
from xinfang.errors import AuthenticationFailed
from xinfang.org import second_factor
from xinfang.org import service as org_service
from xinfang.org.models import User
from xinfang.org.service import STAGE_ENROL, STAGE_TOTP
from xinfang.runtime import Runtime
from xinfang.security.models import AuthToken
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
    """The password; then, for a user with the TOTP second factor, the code form (/login/totp), and for a role that
    must use it but has not set it up, the account page (/account) before anything else."""
    try:
        result = second_factor.sign_in_with(
            session, runtime, username=username, password=password, code=None, code_later=True
        )
    except AuthenticationFailed as exc:
        session.commit()
        response = render(request, "login.html", runtime, error=exc.message)
        response.status_code = 401
        return response
    session.commit()
    target = {STAGE_TOTP: "/login/totp", STAGE_ENROL: "/account"}.get(result.stage, "/")
    return set_session_cookie(RedirectResponse(target, status_code=303), result.token, runtime, result.ttl)


def set_session_cookie(response: Response, token: str, runtime: Runtime, ttl: timedelta) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=runtime.settings.environment == "production",
        max_age=int(ttl.total_seconds()),
    )
    return response


def _owing_code(request: Request, session: Session, runtime: Runtime) -> tuple[str, AuthToken, User] | None:
    """The cookie's token, if it is a login that still owes its TOTP code."""
    token = request.cookies.get(SESSION_COOKIE)
    found = org_service.token_session(session, token=token, now=runtime.clock.now()) if token else None
    if token is None or found is None or found[0].stage != STAGE_TOTP:
        return None
    return token, found[0], found[1]


@router.get("/login/totp")
def totp_page(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    owing = _owing_code(request, session, runtime)
    if owing is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "login_totp.html", runtime, error=None, csrf_token=csrf.token_for(owing[0]))


@router.post("/login/totp")
def totp_submit(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    code: Annotated[str, Form(max_length=16)],
    csrf_token: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The second step: a valid code completes the login. Wrong codes count toward the lockout; once locked, the
    half-way session ends and the password form says so."""
    owing = _owing_code(request, session, runtime)
    if owing is None:
        return RedirectResponse("/login", status_code=303)
    token, row, user = owing
    csrf.check(token, csrf_token)
    now = runtime.clock.now()
    try:
        second_factor.complete_with_code(
            session, keyring=runtime.keyring, row=row, user=user, code=code, now=now, ttl=runtime.token_ttl
        )
    except AuthenticationFailed as exc:
        locked = second_factor.is_locked(user, now)
        if locked:
            org_service.revoke_token(session, token=token, now=now)
        session.commit()
        if locked:
            response = render(request, "login.html", runtime, error="登录失败次数过多,账户已临时锁定")
            response.delete_cookie(SESSION_COOKIE)
            response.status_code = 423
            return response
        response = render(
            request, "login_totp.html", runtime, error=exc.message, csrf_token=csrf.token_for(token)
        )
        response.status_code = 401
        return response
    session.commit()
    return set_session_cookie(RedirectResponse("/", status_code=303), token, runtime, runtime.token_ttl)


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
