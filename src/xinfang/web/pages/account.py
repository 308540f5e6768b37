"""The account security page (/account): switch the TOTP second factor on (secret, otpauth URI, confirming code) or
off (with a code). A role that must use it lands here right after the password, with no navigation, until it has
confirmed a code: that confirmation completes the login.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from xinfang.errors import XinfangError
from xinfang.org import second_factor
from xinfang.org.models import User
from xinfang.org.service import STAGE_ENROL
from xinfang.runtime import Runtime
from xinfang.security.actors import actor_for
from xinfang.security.models import AuthToken
from xinfang.web import csrf
from xinfang.web.deps import SESSION_COOKIE, AccountSessionDep, RuntimeDep, SessionDep, account_session
from xinfang.web.pages.auth import set_session_cookie
from xinfang.web.pages.common import render

router = APIRouter()

DONE = {
    "enabled": "双因素认证已启用:以后登录时需输入手机验证器中的动态验证码。",
    "disabled": "双因素认证已停用。",
}


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _page(
    request: Request,
    session: Session,
    runtime: Runtime,
    row: AuthToken,
    user: User,
    *,
    error: str | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    status = second_factor.status(session, user=user, required_roles=runtime.settings.totp_required_roles)
    pending = second_factor.pending_enrolment(session, keyring=runtime.keyring, user=user)
    extra: dict[str, object] = {"nav": []} if row.stage == STAGE_ENROL else {}
    response = render(
        request,
        "account.html",
        runtime,
        actor_for(user),
        user=user,
        status=status,
        pending=pending,
        secret_grouped=_grouped(pending.secret) if pending else "",
        forced=row.stage == STAGE_ENROL,
        error=error,
        done=DONE.get(done or ""),
        **extra,
    )
    response.status_code = status_code
    return response


@router.get("/account")
def account_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    signed_in: AccountSessionDep,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    return _page(request, session, runtime, *signed_in, done=done)


async def form_session(
    request: Request, signed_in: Annotated[tuple[AuthToken, User], Depends(account_session)]
) -> tuple[AuthToken, User]:
    """The account routes' session for a form post, after the form's CSRF field matched the cookie's session."""
    form = await request.form()
    supplied = form.get(csrf.FIELD)
    csrf.check(request.cookies.get(SESSION_COOKIE) or "", supplied if isinstance(supplied, str) else None)
    return signed_in


FormSessionDep = Annotated[tuple[AuthToken, User], Depends(form_session)]


@router.post("/account/totp/enrol")
def enrol(request: Request, session: SessionDep, runtime: RuntimeDep, signed_in: FormSessionDep) -> Response:
    row, user = signed_in
    try:
        second_factor.begin_enrolment(session, keyring=runtime.keyring, user=user, now=runtime.clock.now())
    except XinfangError as exc:
        return _page(request, session, runtime, row, user, error=exc.message, status_code=exc.http_status)
    session.commit()
    return RedirectResponse("/account", status_code=303)


@router.post("/account/totp/confirm")
def confirm(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    signed_in: FormSessionDep,
    code: Annotated[str, Form(max_length=16)],
) -> Response:
    row, user = signed_in
    try:
        completed = second_factor.confirm_and_continue(
            session,
            keyring=runtime.keyring,
            row=row,
            user=user,
            code=code,
            now=runtime.clock.now(),
            ttl=runtime.token_ttl,
        )
    except XinfangError as exc:
        session.commit()  # the audit entry of the wrong code
        return _page(request, session, runtime, row, user, error=exc.message, status_code=exc.http_status)
    session.commit()
    if completed:  # a forced enrolment: the login is complete, the cookie now lasts a working day
        token = request.cookies.get(SESSION_COOKIE) or ""
        return set_session_cookie(RedirectResponse("/", status_code=303), token, runtime, runtime.token_ttl)
    return RedirectResponse("/account?done=enabled", status_code=303)


@router.post("/account/totp/disable")
def disable(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    signed_in: FormSessionDep,
    code: Annotated[str, Form(max_length=16)],
) -> Response:
    row, user = signed_in
    try:
        second_factor.disable(
            session,
            keyring=runtime.keyring,
            user=user,
            code=code,
            now=runtime.clock.now(),
            required_roles=runtime.settings.totp_required_roles,
        )
    except XinfangError as exc:
        session.commit()  # the failure count and the audit entry of a wrong code
        status = 423 if exc.code == "auth.locked" else exc.http_status
        return _page(request, session, runtime, row, user, error=exc.message, status_code=status)
    session.commit()
    return RedirectResponse("/account?done=disabled", status_code=303)
