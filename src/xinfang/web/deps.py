"""Request-scoped dependencies: the database session and the acting user.

Handlers that write call `session.commit()` themselves before returning, so a 201 is only sent for a committed
petition; the dependency rolls back whatever was left uncommitted (after an error) and closes the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from xinfang.errors import AuthenticationFailed, PermissionDenied
from xinfang.org.models import User
from xinfang.org.service import STAGE_ENROL, STAGE_FULL, token_session
from xinfang.runtime import Runtime
from xinfang.security.actors import Actor, actor_for
from xinfang.security.models import AuthToken
from xinfang.web import csrf

SESSION_COOKIE = "xf_session"


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def get_session(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[Session]:
    session = runtime.sessions()
    # The pages' header counts the user's unread messages in the request's own session (pages.common.render): a
    # second session would wait on this one's SQLite write lock.
    request.state.db_session = session
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def token_from_request(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def optional_actor(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> Actor | None:
    token = token_from_request(request)
    if not token:
        return None
    if (
        request.method not in csrf.SAFE_METHODS
        and request.url.path.startswith("/api/")
        and token == request.cookies.get(SESSION_COOKIE)
    ):
        # A cookie-authenticated API write (the pages' JavaScript) must carry the session's CSRF token;
        # the pages' own form posts check the hidden field (web.pages.common.form_actor).
        csrf.check(token, request.headers.get(csrf.HEADER))
    return actor_for_token(session, token=token, now=runtime.clock.now())


def actor_for_token(session: Session, *, token: str, now: datetime) -> Actor | None:
    """The signed-in actor of a full session; a token of a forced TOTP enrolment is refused with its own code
    (pages turn it into a redirect to /account), one still owing a code signs no one in."""
    found = token_session(session, token=token, now=now)
    if found is None:
        return None
    row, user = found
    if row.stage == STAGE_ENROL:
        raise PermissionDenied("请先启用双因素认证", code=TOTP_ENROLMENT_REQUIRED)
    return actor_for(user) if row.stage == STAGE_FULL else None


TOTP_ENROLMENT_REQUIRED = "auth.totp_enrolment_required"


def account_session(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> tuple[AuthToken, User]:
    """The token and user of a full session or of a forced enrolment: what the account (TOTP) routes accept.

    Cookie-authenticated writes carry the CSRF header, as in `optional_actor`; page forms check their field.
    """
    token = token_from_request(request)
    found = token_session(session, token=token, now=runtime.clock.now()) if token else None
    if found is None or found[0].stage not in (STAGE_FULL, STAGE_ENROL):
        raise AuthenticationFailed("请先登录", code="auth.required")
    if (
        request.method not in csrf.SAFE_METHODS
        and request.url.path.startswith("/api/")
        and token == request.cookies.get(SESSION_COOKIE)
    ):
        csrf.check(token, request.headers.get(csrf.HEADER))
    return found


def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise AuthenticationFailed("请先登录", code="auth.required")
    return actor


SessionDep = Annotated[Session, Depends(get_session)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]
AccountSessionDep = Annotated[tuple[AuthToken, User], Depends(account_session)]
