"""Petition intake and reading."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Header, Query, Response, UploadFile

from xinfang.cases import attachments, procedure, service
from xinfang.cases.schemas import PetitionCreated, PetitionIn, PetitionPage, PetitionRead
from xinfang.clock import ensure_aware, local_date
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.openapi_docs import files
from xinfang.web.presenters import action_spec, petition_read, petition_summary

router = APIRouter(prefix="/api", tags=["petitions"])


@router.post("/petitions", status_code=201, response_model=PetitionCreated)
def create_petition(
    data: PetitionIn,
    response: Response,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> PetitionRead:
    """Register a petition. It is analysed and routed on arrival; personal data comes back masked.

    Send an `Idempotency-Key` header to make retries safe: the same key returns the original petition (200).
    """
    petition, created = service.register_petition(
        session,
        actor=actor,
        data=data,
        now=runtime.clock.now(),
        ctx=runtime.intake_context(session),
        default_source="api",
        dedup_key=("idem:" + idempotency_key) if idempotency_key else None,
    )
    session.commit()
    if not created:
        response.status_code = 200
    view = petition_read(session, petition, today=local_date(runtime.clock.now()))
    return PetitionCreated(**view.model_dump(), query_code=getattr(petition, "new_query_code", None))


@router.get("/petitions", response_model=PetitionPage)
def list_petitions(
    session: SessionDep,
    actor: ActorDep,
    status: str | None = None,
    channel: str | None = None,
    category: str | None = None,
    department: str | None = None,
    division: str | None = Query(None, pattern=r"^\d{1,12}$"),
    q: str | None = Query(None, max_length=100),
    received_from: datetime | None = Query(None, alias="from"),
    received_to: datetime | None = Query(None, alias="to"),
    page: int = Query(1, ge=1, le=100_000),  # bounded: the OFFSET must fit 64 bits (else a 500)
    page_size: int = Query(20, ge=1, le=200),
) -> PetitionPage:
    filters = service.PetitionFilter(
        status=status,
        channel=channel,
        category=category,
        department_code=department,
        division_code=division,
        q=q,
        received_from=ensure_aware(received_from) if received_from else None,
        received_to=ensure_aware(received_to) if received_to else None,
    )
    rows, total = service.list_petitions(
        session, actor=actor, filters=filters, page=page, page_size=page_size
    )
    return PetitionPage(
        items=[petition_summary(p) for p in rows], total=total, page=page, page_size=page_size
    )


@router.get("/petitions/{petition_id}", response_model=PetitionRead)
def get_petition(petition_id: int, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> PetitionRead:
    petition = service.get_petition(session, actor=actor, petition_id=petition_id)
    service.record_read(session, actor=actor, petition=petition, now=runtime.clock.now())
    today = local_date(runtime.clock.now())
    result = petition_read(session, petition, today=today)
    result.actions = [action_spec(step) for step in procedure.available_actions(petition, actor, today)]
    session.commit()
    return result


@router.post("/petitioners/{petitioner_id}/unmask")
def unmask(
    petitioner_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    reason: Annotated[str, Body(embed=True, min_length=2, max_length=200)],
) -> dict[str, str | None]:
    """Show one petitioner's full ID number and phone; the reason is written to the audit log."""
    result = service.unmask_petitioner(
        session,
        actor=actor,
        keyring=runtime.keyring,
        petitioner_id=petitioner_id,
        reason=reason,
        now=runtime.clock.now(),
    )
    session.commit()
    return result


@router.post("/petitions/{petition_id}/attachments", status_code=201)
async def upload_attachment(
    petition_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    file: UploadFile,
) -> dict[str, object]:
    """Attach a scan or document (PDF, image, docx/xlsx, text); the type is checked from the content."""
    limit = runtime.settings.max_upload_bytes
    data = await file.read(limit + 1)
    petition = service.get_petition(session, actor=actor, petition_id=petition_id)
    att = attachments.add_attachment(
        session,
        actor=actor,
        petition=petition,
        data=data,
        filename=file.filename or "附件",
        root=runtime.settings.attachments_dir,
        max_bytes=limit,
        now=runtime.clock.now(),
    )
    from xinfang.intake.letters import enqueue_scan

    enqueue_scan(session, petition=petition, attachment=att, now=runtime.clock.now())  # 来信扫描件: OCR job
    session.commit()
    return {
        "id": att.id,
        "filename": att.filename,
        "content_type": att.content_type,
        "size": att.size,
        "sha256": att.sha256,
    }


@router.get(
    "/attachments/{attachment_id}", response_class=Response, responses=files(*attachments.STORED_TYPES)
)
def download_attachment(
    attachment_id: int, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> Response:
    att, data = attachments.open_attachment(
        session, actor=actor, attachment_id=attachment_id, root=runtime.settings.attachments_dir
    )
    from urllib.parse import quote

    return Response(
        data,
        media_type=att.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(att.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/petitions/{petition_id}/unmask")
def unmask_text(
    petition_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    reason: Annotated[str, Body(embed=True, min_length=2, max_length=200)],
) -> dict[str, str]:
    """The petition's title and body with the ID and phone numbers it contains; the reason is audited."""
    result = service.unmask_petition_text(
        session,
        actor=actor,
        keyring=runtime.keyring,
        petition_id=petition_id,
        reason=reason,
        now=runtime.clock.now(),
    )
    session.commit()
    return result
