"""The case page: facts, timeline, clocks, documents (preview/download), linked petitions, the actor's next steps.

The steps offered are exactly `procedure.available_actions` (the API's `actions`), each as a form built from its
fields; posting one takes the step through the same service as the API.

The 访调诉 panel lists the petition's referrals (status, outbox delivery state, history, the manual-export ZIP) and
offers "移交调解/诉讼" where `referrals.service.referral_targets` says the actor may refer, and the manual status
form where the actor may manage referrals; the forms call the same service functions as /api/referrals.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from urllib.parse import quote

import docx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from xinfang.cases import procedure, service
from xinfang.cases import supervision as sv
from xinfang.cases.attachments import read_stored
from xinfang.cases.enums import OrgKind
from xinfang.cases.models import Document, Supervision
from xinfang.cases.notices import iter_paragraphs
from xinfang.clock import CHINA_TZ, local_date
from xinfang.dispatch import repeats
from xinfang.errors import InvalidInput, NotFound, PermissionDenied, XinfangError
from xinfang.org.models import OrgUnit
from xinfang.referrals import service as referrals
from xinfang.referrals.enums import OPEN as OPEN_REFERRAL
from xinfang.referrals.enums import STATUS_LABELS
from xinfang.referrals.enums import Status as ReferralStatus
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
    supervisions = [
        {**sv.supervision_view(session, s), "may_respond": sv.may_respond(session, actor, s)}
        for s in petition.supervisions
    ]
    referral_panel = _referral_panel(session, actor, petition, now)
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
        done_message=DONE_MESSAGES.get(request.query_params.get("done") or "", "操作已完成。"),
        ref=referral_panel,
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


# ---- 访调诉: the referral panel and its forms --------------------------------------------------------------------

SOURCE_LABELS = {"system": "系统", "callback": "平台回调", "poll": "定时查询", "manual": "人工记录"}
DONE_MESSAGES = {
    "supervision_response": "督办已回复,已通知督办人。",
    "referral": "已登记移交。接入平台的移交材料由系统自动发送;未接入的平台请下载移交材料人工送交。",
    "referral_status": "移交状态已记录。",
    "referral_resend": "已重新发送,系统将再次尝试送达。",
}


def _referral_panel(session: SessionDep, actor: Any, petition: Any, now: datetime) -> dict[str, Any]:
    """What the panel shows: the referrals (newest first) with their delivery state and the statuses that may be
    recorded by hand, and the referral form's choices when a new referral is possible."""
    if not can(actor, "referral.read"):
        return {"visible": False}
    rows = referrals.list_referrals(session, actor=actor, petition_id=petition.id)
    deliveries = referrals.delivery_states(session, rows)
    may_manage = can(actor, "referral.manage")
    items = [
        {
            **referrals.referral_view(r),
            "delivery_state": deliveries[r.id],
            "manual_statuses": referrals.manual_statuses(r) if may_manage else [],
        }
        for r in rows
    ]
    is_open = any(ReferralStatus(r.status) in OPEN_REFERRAL for r in rows)
    targets = [] if is_open else referrals.referral_targets(petition, actor, local_date(now))
    return {
        "visible": True,
        "items": items,
        "open": is_open,
        "targets": targets,
        "may_manage": may_manage,
        "may_export": may_manage and can(actor, "personal_data.unmask"),
        "may_resend": can(actor, "jobs.manage"),
        "consent_methods": referrals.CONSENT_METHODS,
        "default_demand": referrals.default_demand(petition),
        "now_local": now.astimezone(CHINA_TZ).strftime("%Y-%m-%dT%H:%M"),
        "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
        "source_labels": SOURCE_LABELS,
    }


def _ints(values: list[Any], what: str) -> list[int]:
    try:
        return [int(v) for v in values if isinstance(v, str) and v.strip()]
    except ValueError as exc:
        raise InvalidInput(f"{what}有误", code="referral.form") from exc


async def _form_values(request: Request) -> tuple[dict[str, str], Any]:
    form = await request.form()
    values = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != csrf.FIELD}
    return values, form


@router.post("/petitions/{petition_id}/referrals")
async def refer_page(
    petition_id: int, request: Request, session: SessionDep, runtime: RuntimeDep, actor: FormActorDep
) -> Response:
    """移交调解/诉讼 from the case page: the same `referrals.service.refer` as POST /api/petitions/{id}/referrals."""
    values, form = await _form_values(request)
    s = runtime.settings
    try:
        platform, _, kind = values.get("target", "").partition("|")
        referrals.refer(
            session,
            actor=actor,
            petition_id=petition_id,
            platform=platform,
            kind=kind,
            consent={
                "petitioner_ids": _ints(form.getlist("consent_ids"), "同意的信访人"),
                "method": values.get("consent_method"),
                "given_at": values.get("consent_given_at"),
                "note": values.get("consent_note") or None,
            },
            evidence_ids=_ints(form.getlist("evidence_ids"), "证据附件"),
            now=runtime.clock.now(),
            ctx=runtime.procedure,
            platforms=s.referral_platforms,
            max_attempts=s.job_max_attempts,
            demand=values.get("demand") or None,
        )
        session.commit()
    except (XinfangError, StaleDataError) as exc:
        return _refused(exc, request, session, runtime, actor, petition_id, "referral", values)
    return RedirectResponse(f"/petitions/{petition_id}?done=referral#referrals", status_code=303)


def _refused(
    exc: Exception,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: Any,
    petition_id: int,
    failed_action: str | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    """A refusal on the merits, shown on the case page with what the user typed; 404 and 403 propagate as
    everywhere else. Called from the `except` of a case-page form handler."""
    session.rollback()
    if isinstance(exc, (NotFound, PermissionDenied)):
        raise exc
    message = exc.message if isinstance(exc, XinfangError) else "信访件已被他人修改,请刷新后重试"
    return _case_view(
        request,
        session,
        runtime,
        actor,
        petition_id,
        error=message,
        failed_action=failed_action,
        values=values,
    )


def _referral_of(session: SessionDep, actor: Any, petition_id: int, referral_id: int) -> None:
    """The referral must be this petition's (a form of one case page cannot act on another's referral)."""
    referral = referrals.get_referral(session, actor=actor, referral_id=referral_id)
    if referral.petition_id != petition_id:
        raise NotFound("移交记录不存在", code="referral.not_found")


@router.post("/petitions/{petition_id}/referrals/{referral_id}/status")
async def referral_status_page(
    petition_id: int,
    referral_id: int,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: FormActorDep,
) -> Response:
    """The manual fallback from the case page: the same `record_status` as POST /api/referrals/{id}/status."""
    values, _form = await _form_values(request)
    _referral_of(session, actor, petition_id, referral_id)
    try:
        referrals.record_status(
            session,
            actor=actor,
            referral_id=referral_id,
            status=values.get("status", ""),
            note=values.get("note") or None,
            remote_id=values.get("remote_id") or None,
            now=runtime.clock.now(),
            ctx=runtime.procedure,
        )
        session.commit()
    except (XinfangError, StaleDataError) as exc:
        return _refused(
            exc, request, session, runtime, actor, petition_id, f"referral_status_{referral_id}", values
        )
    return RedirectResponse(f"/petitions/{petition_id}?done=referral_status#referrals", status_code=303)


@router.post("/petitions/{petition_id}/referrals/{referral_id}/resend")
async def referral_resend_page(
    petition_id: int,
    referral_id: int,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: FormActorDep,
) -> Response:
    """The operator resends a dead-lettered delivery (jobs.manage), as POST /api/jobs/{id}/retry does."""
    _referral_of(session, actor, petition_id, referral_id)
    try:
        referrals.resend_delivery(session, actor=actor, referral_id=referral_id, now=runtime.clock.now())
        session.commit()
    except XinfangError as exc:
        return _refused(exc, request, session, runtime, actor, petition_id)
    return RedirectResponse(f"/petitions/{petition_id}?done=referral_resend#referrals", status_code=303)


# ---- 督办: the supervised unit's answer ---------------------------------------------------------------------------


@router.post("/petitions/{petition_id}/supervisions/{supervision_id}/response")
async def supervision_response_page(
    petition_id: int,
    supervision_id: int,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: FormActorDep,
) -> Response:
    """回复督办 from the case page: the same `cases.supervision.respond` as POST /api/supervisions/{id}/response."""
    values, _form = await _form_values(request)
    found = session.get(Supervision, supervision_id)
    if found is None or found.petition_id != petition_id:  # a form of one case page cannot answer another's
        raise NotFound("督办不存在或无权查看", code="supervision.not_found")
    try:
        sv.respond(
            session,
            actor=actor,
            supervision_id=supervision_id,
            response=values.get("response", ""),
            attach_progress=values.get("attach_progress") == "on",
            now=runtime.clock.now(),
        )
        session.commit()
    except XinfangError as exc:
        return _refused(
            exc, request, session, runtime, actor, petition_id, f"supervision_{supervision_id}", values
        )
    return RedirectResponse(
        f"/petitions/{petition_id}?done=supervision_response#supervisions", status_code=303
    )
