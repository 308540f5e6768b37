"""What every page shares: the Jinja2 environment, rendering with the navigation of the user's role, CSRF for forms."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from xinfang.cases import notifications
from xinfang.cases.deadlines import CLOCK_STATE_LABELS, ClockState
from xinfang.cases.enums import CHANNEL_LABELS, ROLE_LABELS, STATUS_LABELS, Channel, Role, Status
from xinfang.clock import CHINA_TZ
from xinfang.errors import AuthenticationFailed
from xinfang.runtime import Runtime
from xinfang.security.actors import Actor
from xinfang.security.permissions import can
from xinfang.web import csrf
from xinfang.web.deps import SESSION_COOKIE, actor_for_token, get_runtime, get_session

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES)


def _label(labels: dict[Any, str], enum: Any) -> Any:
    return lambda v: labels.get(enum(v), v) if v in enum._value2member_map_ else (v or "")


templates.env.globals.update(
    channel_label=_label(CHANNEL_LABELS, Channel),
    status_label=_label(STATUS_LABELS, Status),
    role_label=_label(ROLE_LABELS, Role),
    clock_label=_label(CLOCK_STATE_LABELS, ClockState),
    local_time=lambda dt: dt.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if dt else "",
    channels=CHANNEL_LABELS,
    statuses=STATUS_LABELS,
    roles=ROLE_LABELS,
)

# (path, label, permission or role test): the top navigation, shown by what the role may do.
NAV: tuple[tuple[str, str, str], ...] = (
    ("/desk", "登记台", "petition.create"),
    ("/inbox", "收件箱", "petition.read"),
    ("/petitions", "信访件", "petition.read"),
    ("/prevention", "排查化解", "prevention.read"),
    ("/dashboard", "大屏", "oversight.read"),
    ("/alerts", "预警", "alert.read"),
    ("/admin", "管理", "user.manage"),
)


def nav_for(actor: Actor | None) -> list[tuple[str, str]]:
    if actor is None:
        return []
    return [(path, label) for path, label, perm in NAV if can(actor, perm)]


def render(
    request: Request, name: str, runtime: Runtime, actor: Actor | None = None, **context: Any
) -> HTMLResponse:
    """Render a page; `Server-Timing` reports the server's time since the request began (see bench/pages.py)."""
    token = request.cookies.get(SESSION_COOKIE)
    unread = None
    session = getattr(request.state, "db_session", None)
    if actor is not None and session is not None and session.is_active:
        unread = notifications.unread_count(session, actor=actor)  # the header's 消息 badge
    response = templates.TemplateResponse(
        request,
        name,
        {
            "demo": runtime.settings.demo_label,
            "actor": actor,
            "nav": nav_for(actor),
            "path": request.url.path,
            "csrf_token": csrf.token_for(token) if actor else "",
            "can": (lambda perm: can(actor, perm)) if actor else (lambda perm: False),
            "unread_messages": unread,
            **context,
        },
    )
    started = request.scope.get("xf_started")
    if started is not None:
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


def mark_start(request: Request) -> None:
    """Router dependency: remember when the page's work began, for the Server-Timing header."""
    request.scope.setdefault("xf_started", time.perf_counter())


async def form_actor(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> Actor:
    """The signed-in user of a page form post, after checking the form's CSRF token against the session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise AuthenticationFailed("请先登录", code="auth.required")
    form = await request.form()
    supplied = form.get(csrf.FIELD)
    csrf.check(token, supplied if isinstance(supplied, str) else None)
    actor = actor_for_token(session, token=token, now=runtime.clock.now())
    if actor is None:
        raise AuthenticationFailed("请先登录", code="auth.required")
    return actor


FormActorDep = Annotated[Actor, Depends(form_actor)]


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
