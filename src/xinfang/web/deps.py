"""Request-scoped dependencies: the database session and the acting user.

Handlers that write call `session.commit()` themselves before returning, so a 201 is only sent for a committed
petition; the dependency rolls back whatever was left uncommitted (after an error) and closes the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from xinfang.errors import AuthenticationFailed
from xinfang.org.service import user_for_token
from xinfang.runtime import Runtime
from xinfang.security.actors import Actor, actor_for
from xinfang.web import csrf

SESSION_COOKIE = "xf_session"


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def get_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[Session]:
    session = runtime.sessions()
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
    user = user_for_token(session, token=token, now=runtime.clock.now())
    return actor_for(user) if user else None


def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise AuthenticationFailed("请先登录", code="auth.required")
    return actor


SessionDep = Annotated[Session, Depends(get_session)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ActorDep = Annotated[Actor, Depends(current_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]
