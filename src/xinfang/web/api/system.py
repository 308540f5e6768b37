"""Health and identity endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import text

from xinfang.errors import AuthenticationFailed
from xinfang.org import service as org_service
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep, token_from_request

router = APIRouter(prefix="/api")


@router.get("/health", tags=["system"])
def health(session: SessionDep, runtime: RuntimeDep) -> dict[str, object]:
    session.execute(text("SELECT 1"))
    return {"status": "ok", "database": session.get_bind().dialect.name, "demo": runtime.settings.demo_label}


@router.post("/auth/token", tags=["auth"])
def login_for_token(
    session: SessionDep,
    runtime: RuntimeDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> dict[str, str]:
    """OAuth2 password flow: exchange a username and password for a bearer token."""
    now = runtime.clock.now()
    try:
        user = org_service.authenticate(session, username=username, password=password, now=now)
    except AuthenticationFailed:
        session.commit()  # keep the failed-login count
        raise
    token = org_service.issue_token(session, user=user, now=now, ttl=runtime.token_ttl)
    session.commit()
    return {"access_token": token, "token_type": "bearer"}


@router.post("/auth/logout", tags=["auth"], status_code=204)
def logout(request: Request, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> Response:
    token = token_from_request(request)
    if token:
        org_service.revoke_token(session, token=token, now=runtime.clock.now())
        session.commit()
    return Response(status_code=204)


@router.get("/me", tags=["auth"])
def me(actor: ActorDep) -> dict[str, object]:
    return {
        "username": actor.username,
        "role": actor.role.value,
        "unit": actor.org_code,
        "unit_kind": actor.org_kind.value if actor.org_kind else None,
    }


@router.get("/metrics", tags=["system"], response_class=PlainTextResponse)
def metrics(request: Request, session: SessionDep, runtime: RuntimeDep) -> str:
    """Prometheus text format. No login (scraped from the intranet monitoring host); it holds counts only."""
    from sqlalchemy import func, select

    from xinfang.cases.models import Clock, Petition
    from xinfang.clock import local_date

    today = local_date(runtime.clock.now())
    petitions = session.execute(select(func.count()).select_from(Petition)).scalar_one()
    overdue = session.execute(
        select(func.count())
        .select_from(Clock)
        .where(
            Clock.closed_on.is_(None),
            Clock.due_on < today,
            Clock.binds_petitioner.is_(False),
            Clock.rule != "object",
        )
    ).scalar_one()
    return request.app.state.metrics.render(
        {
            "xinfang_petitions_total": ("Petitions registered", petitions),
            "xinfang_overdue_clocks": ("Open statutory clocks past their due date", overdue),
        }
    )
