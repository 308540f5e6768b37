"""The petitioner's public pages (no staff login): look up a petition by its number and query code, follow its
progress and deadlines, read the written replies, and evaluate the handling.

Guessing is throttled per client address and per petition number (in the database, so every instance agrees); a
wrong number or code reveals nothing, not even whether the number exists.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases import procedure
from xinfang.cases.attachments import read_stored
from xinfang.cases.deadlines import Rule
from xinfang.cases.enums import STATUS_LABELS, Role, Status
from xinfang.cases.models import Document, Petition
from xinfang.cases.service import query_code_hash
from xinfang.clock import local_date
from xinfang.errors import NotFound, XinfangError
from xinfang.security import throttle
from xinfang.security.actors import Actor
from xinfang.security.crypto import constant_time_equal
from xinfang.web.deps import RuntimeDep, SessionDep
from xinfang.web.presenters import clock_reads

router = APIRouter(prefix="/public", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
LIMIT, WINDOW = 5, timedelta(minutes=15)
PETITIONER = Actor(user_id=None, username="信访人(查询页)", role=Role.REGISTRAR)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _find(session: Session, request: Request, runtime: RuntimeDep, number: str, code: str) -> Petition:
    now = runtime.clock.now()
    keys = (f"query-ip:{_client(request)}", f"query-no:{number.strip()[:40]}")
    for key in keys:
        throttle.check(session, key=key, now=now, limit=LIMIT, window=WINDOW)
    petition = session.execute(select(Petition).where(Petition.number == number.strip())).scalar_one_or_none()
    expected = petition.query_code_hash if petition and petition.query_code_hash else "0" * 64
    if petition is None or not constant_time_equal(expected, query_code_hash(number.strip(), code)):
        for key in keys:
            throttle.fail(session, key=key, now=now, window=WINDOW)
        session.commit()
        raise NotFound("信访件编号或查询码不正确", code="public.not_found")
    return petition


def _page(request: Request, runtime: RuntimeDep, petition: Petition | None, **ctx: object) -> HTMLResponse:
    view = None
    if petition is not None:
        today = local_date(runtime.clock.now())
        view = {
            "number": petition.number,
            "title": petition.title,
            "status": STATUS_LABELS.get(Status(petition.status), petition.status),
            "received_on": local_date(petition.received_at),
            "department": petition.department.name if petition.department else "县信访局",
            "clocks": [c for c in clock_reads(petition, today) if c.rule != "object"],
            "documents": petition.documents,
            "events": [(local_date(e.at), e.summary.split(":")[0]) for e in petition.events],
            "evaluation": petition.evaluation,
            "can_evaluate": petition.evaluation is None
            and petition.status in ("replied", "review_replied", "recheck_replied", "concluded"),
            "review_due_on": _review_window(petition, today),
        }
    return templates.TemplateResponse(
        request, "public_query.html", {"p": view, "demo": runtime.settings.demo_label, **ctx}
    )


def _review_window(petition: Petition, today: date) -> date | None:
    """The last day to request a review, while that window is open (the procedure checks it again on request)."""
    if petition.status not in (Status.REPLIED.value, Status.CONCLUDED.value):
        return None
    for c in petition.clocks:
        if c.rule == Rule.REVIEW_REQUEST_WINDOW.value and c.closed_on is None and c.due_on >= today:
            return c.due_on
    return None


@router.get("/query")
def query_form(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return _page(request, runtime, None, error=None, number="", code="")


@router.post("/query")
def query(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    number: Annotated[str, Form(max_length=40)],
    code: Annotated[str, Form(max_length=20)],
) -> HTMLResponse:
    try:
        petition = _find(session, request, runtime, number, code)
    except XinfangError as exc:
        response = _page(request, runtime, None, error=exc.message, number=number, code="")
        response.status_code = exc.http_status
        return response
    return _page(request, runtime, petition, error=None, number=number, code=code)


@router.post("/evaluate")
def evaluate(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    number: Annotated[str, Form(max_length=40)],
    code: Annotated[str, Form(max_length=20)],
    evaluation: Annotated[str, Form(max_length=10)],
    comment: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    """The petitioner evaluates; 不满意 tells them how to request a review within the legal window."""
    try:
        petition = _find(session, request, runtime, number, code)
        procedure.take_action(
            session,
            actor=PETITIONER,
            petition_id=petition.id,
            action="evaluate",
            payload={"evaluation": evaluation, **({"comment": comment} if comment.strip() else {})},
            now=runtime.clock.now(),
            ctx=runtime.procedure,
        )
        session.commit()
    except XinfangError as exc:
        session.rollback()
        response = _page(request, runtime, None, error=exc.message, number=number, code="")
        response.status_code = exc.http_status
        return response
    note = "感谢您的评价。" + (
        "如对处理意见不服,可自收到处理意见书之日起30日内向上一级机关请求复查。"
        if evaluation == "不满意"
        else ""
    )
    return _page(request, runtime, petition, error=None, number=number, code=code, note=note)


@router.post("/document/{document_id}")
def document(
    document_id: int,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    number: Annotated[str, Form(max_length=40)],
    code: Annotated[str, Form(max_length=20)],
) -> Response:
    petition = _find(session, request, runtime, number, code)
    doc = session.get(Document, document_id)
    if doc is None or doc.petition_id != petition.id:
        raise NotFound("文书不存在", code="document.not_found")
    data = read_stored(runtime.settings.attachments_dir, doc.sha256)
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.title + '.docx')}"},
    )


@router.post("/review")
def request_review(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    number: Annotated[str, Form(max_length=40)],
    code: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> HTMLResponse:
    """The petitioner requests a review (复查) within the legal window; the procedure refuses it outside."""
    try:
        petition = _find(session, request, runtime, number, code)
        procedure.take_action(
            session,
            actor=PETITIONER,
            petition_id=petition.id,
            action="request_review",
            payload={"reason": reason.strip() or "信访人通过查询页请求复查"},
            now=runtime.clock.now(),
            ctx=runtime.procedure,
        )
        session.commit()
    except XinfangError as exc:
        session.rollback()
        response = _page(request, runtime, None, error=exc.message, number=number, code="")
        response.status_code = exc.http_status
        return response
    note = "复查请求已提交,复查机关将在30日内作出复查意见。"
    return _page(request, runtime, petition, error=None, number=number, code=code, note=note)
