"""访调诉 over HTTP: refer a petition, read and export referrals, record statuses by hand, the platforms' signed
callback, and the dashboard counts. The contract for the platforms: docs/integrations/referral-api.yaml."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from xinfang.clock import ensure_aware
from xinfang.referrals import service
from xinfang.referrals.signing import NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.openapi_docs import files

router = APIRouter(prefix="/api", tags=["referrals"])
log = logging.getLogger("xinfang.web.referrals")
MAX_CALLBACK_BYTES = 64 * 1024


class ConsentIn(BaseModel):
    petitioner_ids: list[int]
    method: str = Field(description="书面 / 口头 / 线上")
    given_at: datetime
    note: str | None = Field(None, max_length=500)


class ReferralIn(BaseModel):
    platform: str = Field(description="mediation | court")
    kind: str = Field(description="诉前调解 | 立案")
    consent: ConsentIn
    evidence_ids: list[int] = Field(default_factory=list)
    demand: str | None = Field(
        None, max_length=500, description="demand summary (default: the analysed demand)"
    )


class StatusIn(BaseModel):
    status: str = Field(description="已受理 / 调解中 / 调解成功 / 调解失败 / 已立案 / 已司法确认 / 退回")
    note: str | None = Field(None, max_length=500)
    remote_id: str | None = Field(None, max_length=100)


@router.post("/petitions/{petition_id}/referrals", status_code=201)
def refer(
    petition_id: int, body: ReferralIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    """One-click referral to the people's-mediation or court platform, with the parties' consent."""
    s = runtime.settings
    consent = body.consent.model_dump()
    consent["given_at"] = body.consent.given_at.isoformat()
    referral = service.refer(
        session,
        actor=actor,
        petition_id=petition_id,
        platform=body.platform,
        kind=body.kind,
        consent=consent,
        evidence_ids=body.evidence_ids,
        now=runtime.clock.now(),
        ctx=runtime.procedure,
        platforms=s.referral_platforms,
        max_attempts=s.job_max_attempts,
        demand=body.demand,
    )
    session.commit()
    return service.referral_view(referral)


@router.get("/petitions/{petition_id}/referrals")
def petition_referrals(petition_id: int, session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    return [
        service.referral_view(r)
        for r in service.list_referrals(session, actor=actor, petition_id=petition_id)
    ]


@router.get("/referrals/stats")
def referral_stats(
    session: SessionDep,
    actor: ActorDep,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Referrals made in [from, to) by platform, status and outcome (naive times are China time)."""
    return service.stats(
        session,
        actor=actor,
        start=ensure_aware(start) if start else None,
        end=ensure_aware(end) if end else None,
    )


@router.get("/referrals")
def list_referrals(
    session: SessionDep,
    actor: ActorDep,
    status: str | None = None,
    platform: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return [
        service.referral_view(r)
        for r in service.list_referrals(session, actor=actor, status=status, platform=platform, limit=limit)
    ]


@router.get("/referrals/{referral_id}")
def get_referral(referral_id: int, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return service.referral_view(service.get_referral(session, actor=actor, referral_id=referral_id))


@router.post("/referrals/{referral_id}/status")
def record_status(
    referral_id: int, body: StatusIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    """Manual fallback: record a status the platform reported by phone or on paper (same rules as a callback)."""
    result = service.record_status(
        session,
        actor=actor,
        referral_id=referral_id,
        status=body.status,
        note=body.note,
        remote_id=body.remote_id,
        now=runtime.clock.now(),
        ctx=runtime.procedure,
    )
    session.commit()
    referral = service.get_referral(session, actor=actor, referral_id=referral_id)
    return {"result": result.result, "referral": service.referral_view(referral)}


@router.get("/referrals/{referral_id}/export", response_class=Response, responses=files("application/zip"))
def export_referral(
    referral_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
) -> Response:
    """Manual fallback: the bundle as a ZIP (bundle.json + attachments). Contains contacts: audited."""
    name, data = service.export_bundle(
        session,
        actor=actor,
        referral_id=referral_id,
        keyring=runtime.keyring,
        attachments_dir=runtime.settings.attachments_dir,
        now=runtime.clock.now(),
    )
    session.commit()
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


CALLBACK_BODY = {
    "requestBody": {
        "required": True,
        "description": "signed JSON; see docs/integrations/referral-api.yaml",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post("/referrals/callback/{platform}", openapi_extra=CALLBACK_BODY)
async def callback(
    platform: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    """A platform's signed status callback: 401 bad signature, 409 replay, 404 unknown referral; 200 otherwise
    (result applied / duplicate / stale). Every rejection is logged and audited without the body."""
    body = await request.body()
    now = runtime.clock.now()
    s = runtime.settings
    try:
        if len(body) > MAX_CALLBACK_BYTES:
            raise service.CallbackRejected(
                "回调内容过大", code="referral.callback_too_large", http_status=413
            )
        result = service.receive_callback(
            session,
            platform=platform,
            request=service.SignedRequest(
                timestamp=request.headers.get(TIMESTAMP_HEADER),
                nonce=request.headers.get(NONCE_HEADER),
                signature=request.headers.get(SIGNATURE_HEADER),
                body=body,
            ),
            platforms=s.referral_platforms,
            window_seconds=s.referral_callback_window_seconds,
            now=now,
            ctx=runtime.procedure,
        )
        session.commit()
    except service.CallbackRejected as exc:
        session.rollback()
        log.warning("referral callback rejected: platform=%s reason=%s", platform[:20], exc.code)
        service.record_rejection(session, platform=platform, code=exc.code, now=now)
        session.commit()
        raise
    return {"result": result.result, "status": result.status}
