"""The case page: facts, timeline, clocks, documents (preview/download), linked petitions, the actor's next steps.

The steps offered are exactly `procedure.available_actions` (the API's `actions`), each as a form built from its
fields; posting one takes the step through the same service as the API.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import docx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from xinfang.cases import procedure, service
from xinfang.cases.attachments import read_stored
from xinfang.cases.enums import OrgKind
from xinfang.cases.models import Document
from xinfang.cases.notices import iter_paragraphs
from xinfang.clock import local_date
from xinfang.dispatch import repeats
from xinfang.errors import NotFound, XinfangError
from xinfang.org.models import OrgUnit
from xinfang.security.permissions import can, require_petition_visible
from xinfang.web import csrf
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.pages.common import FormActorDep, render
from xinfang.web.presenters import action_spec, clock_reads, petition_read

router = APIRouter()
LONG_TEXT = {"facts", "opinion", "instruction", "reason", "note", "comment", "legal_basis", "request"}
UNIT_FIELDS = {"department"}


def _units(session: SessionDep) -> list[OrgUnit]:
    kinds = [OrgKind.DEPARTMENT.value, OrgKind.TOWNSHIP.value]
    return list(
        session.execute(
            select(OrgUnit).where(OrgUnit.kind.in_(kinds)).order_by(OrgUnit.kind, OrgUnit.code)
        ).scalars()
    )


def _case_view(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: Any,
    petition_id: int,
    *,
    error: str | None = None,
    failed_action: str | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    now = runtime.clock.now()
    petition = service.get_petition(session, actor=actor, petition_id=petition_id)
    service.record_read(session, actor=actor, petition=petition, now=now)
    today = local_date(now)
    view = petition_read(session, petition, today=today)
    actions = [action_spec(s) for s in procedure.available_actions(petition, actor, today)]
    all_clocks = clock_reads(petition, today, include_closed=True)
    links = repeats.list_links(session, actor=actor, petition_id=petition_id)
    supervisions = list(petition.supervisions)
    session.commit()
    response = render(
        request,
        "case.html",
        runtime,
        actor,
        p=view,
        actions=actions,
        clocks=all_clocks,
        links=links,
        supervisions=supervisions,
        attachments=list(petition.attachments),
        units=_units(session) if any(f["name"] in UNIT_FIELDS for a in actions for f in a["fields"]) else [],
        long_text=LONG_TEXT,
        may_unmask=can(actor, "personal_data.unmask"),
        error=error,
        failed_action=failed_action,
        values=values or {},
        done=request.query_params.get("done"),
    )
    if error:
        response.status_code = 422
    return response


@router.get("/petitions/{petition_id}")
def petition_page(
    petition_id: int, request: Request, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> HTMLResponse:
    return _case_view(request, session, runtime, actor, petition_id)


@router.post("/petitions/{petition_id}/act/{action}")
async def take_step(
    petition_id: int,
    action: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: FormActorDep,
) -> Response:
    form = await request.form()
    payload: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key in (csrf.FIELD,) or not isinstance(value, str):
            continue
        if value.strip() == "":
            continue
        payload[key] = True if value == "on" else value.strip()
    try:
        procedure.take_action(
            session,
            actor=actor,
            petition_id=petition_id,
            action=action,
            payload=payload,
            now=runtime.clock.now(),
            ctx=runtime.procedure,
        )
        session.commit()
    except (XinfangError, StaleDataError) as exc:
        session.rollback()
        message = exc.message if isinstance(exc, XinfangError) else "信访件已被他人修改,请刷新后重试"
        if isinstance(exc, NotFound):
            raise
        return _case_view(
            request, session, runtime, actor, petition_id, error=message, failed_action=action, values=payload
        )
    return RedirectResponse(f"/petitions/{petition_id}?done={quote(action)}", status_code=303)


@router.get("/documents/{document_id}/preview")
def preview_document(
    document_id: int, request: Request, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> HTMLResponse:
    """The notice's paragraphs as HTML (escaped text), read from the stored .docx with python-docx."""
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound("文书不存在", code="document.not_found")
    require_petition_visible(actor, doc.petition)
    data = read_stored(runtime.settings.attachments_dir, doc.sha256)
    document = docx.Document(io.BytesIO(data))
    paragraphs = [
        {
            "text": p.text,
            "style": (p.style.name if p.style is not None else "") or "",
            "center": p.alignment == 1,
        }
        for p in iter_paragraphs(document)
    ]
    return render(request, "document.html", runtime, actor, doc=doc, paragraphs=paragraphs)
