"""Health and identity endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from xinfang.errors import AuthenticationFailed
from xinfang.org import second_factor
from xinfang.org import service as org_service
from xinfang.org.service import STAGE_ENROL
from xinfang.web.api.account import error_responses
from xinfang.web.deps import AccountSessionDep, ActorDep, RuntimeDep, SessionDep, token_from_request

router = APIRouter(prefix="/api")


@router.get("/health", tags=["system"])
def health(session: SessionDep, runtime: RuntimeDep) -> dict[str, object]:
    session.execute(text("SELECT 1"))
    return {
        "status": "ok",
        "database": session.get_bind().dialect.name,
        "demo": runtime.settings.demo_label,
        "model": _model_health(runtime),
    }


def _model_health(runtime: RuntimeDep) -> dict[str, object]:
    """Which category model answers (version, packaged or local, this process could load it); no path (no login
    here): the path, training data and figures are on the admin page (/admin?section=model)."""
    from xinfang.dispatch.engine import model_state

    state = model_state(runtime.settings.model_dir)
    return {
        "version": state["model_version"],
        "source": state["source"],
        "trained_at": state["trained_at"],
        "load_failed": state["load_error"] is not None,
    }


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    totp_enrolment_required: bool = Field(
        False,
        description="true: the user's role requires a TOTP second factor they have not set up yet. The token then "
        "opens only /api/account/totp… (enrol, then confirm a code, which turns it into a full session) and "
        "/api/auth/logout; every other route answers 403 auth.totp_enrolment_required.",
    )


@router.post("/auth/token", tags=["auth"])
def login_for_token(
    session: SessionDep,
    runtime: RuntimeDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    totp: Annotated[
        str | None,
        Form(
            max_length=16,
            description="the 6-digit code of the user's authenticator app, required once they have enabled the TOTP "
            "second factor; each code is accepted once",
        ),
    ] = None,
) -> TokenOut:
    """OAuth2 password flow, extended with the optional TOTP second factor: exchange a username and password (and a
    code) for a bearer token.

    A user with TOTP enabled sends the current code of their authenticator app in the same request as the `totp`
    form field (one call, no half-way state for API clients to keep). Without it the answer is 401 with code
    `auth.totp_required`; a wrong or already used code is 401 `auth.totp_invalid` and counts toward the lockout like
    a wrong password (locked: 423 `auth.locked`).
    """
    try:
        result = second_factor.sign_in_with(session, runtime, username=username, password=password, code=totp)
    except AuthenticationFailed:
        session.commit()  # keep the failed-login count (and the audit of a wrong code)
        raise
    session.commit()
    return TokenOut(access_token=result.token, totp_enrolment_required=result.stage == STAGE_ENROL)


@router.post("/auth/logout", tags=["auth"], status_code=204, responses=error_responses(401, 403))
def logout(
    request: Request, session: SessionDep, runtime: RuntimeDep, signed_in: AccountSessionDep
) -> Response:
    """Revoke the token (a full session, or the token of a forced TOTP enrolment)."""
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
