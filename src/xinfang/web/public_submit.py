"""Citizen self-service: submit a petition online at /public/submit (no staff login).

The submission goes through cases.service.register_petition (channel online, source "public"), so it is analysed,
routed, encrypted and audited like any other. Submissions are throttled per client address in the database (every
attempt counts, valid or not, so the form cannot be used to flood the registry). The result page shows the petition
number and the query code once, and of the personal data only the petitioner's own name.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import select

from xinfang.cases.enums import Channel, OrgKind, Role
from xinfang.cases.schemas import PetitionIn
from xinfang.cases.service import register_petition
from xinfang.errors import XinfangError
from xinfang.org.models import OrgUnit
from xinfang.security import throttle
from xinfang.security.actors import Actor
from xinfang.web.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/public", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
SUBMIT_LIMIT, SUBMIT_WINDOW = 5, timedelta(hours=1)
PUBLIC = Actor(user_id=None, username="网上信访(公众)", role=Role.REGISTRAR)
FIELDS = ("name", "address", "request", "facts", "reasons", "phone", "id_number", "township")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _townships(session: SessionDep) -> list[tuple[str, str]]:
    rows = session.execute(
        select(OrgUnit.code, OrgUnit.name).where(OrgUnit.kind == OrgKind.TOWNSHIP).order_by(OrgUnit.code)
    ).all()
    return [(code, name) for code, name in rows]


def _form(
    request: Request, runtime: RuntimeDep, session: SessionDep, *, status: int = 200, **ctx: object
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "prevention_public_submit.html",
        {"demo": runtime.settings.demo_label, "townships": _townships(session), "values": {}, **ctx},
    )
    response.status_code = status
    return response


@router.get("/submit")
def submit_form(request: Request, runtime: RuntimeDep, session: SessionDep) -> HTMLResponse:
    return _form(request, runtime, session, error=None, created=None)


@router.post("/submit")
def submit(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    name: Annotated[str, Form(max_length=100)] = "",
    address: Annotated[str, Form(max_length=300)] = "",
    request_text: Annotated[str, Form(alias="request", max_length=2000)] = "",
    facts: Annotated[str, Form(max_length=8000)] = "",
    reasons: Annotated[str, Form(max_length=8000)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    id_number: Annotated[str, Form(max_length=32)] = "",
    township: Annotated[str, Form(max_length=12)] = "",
    consent: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    now = runtime.clock.now()
    key = f"submit-ip:{_client(request)}"
    # What the petitioner typed comes back only on an error, into their own form (never ID number or phone).
    values = {"name": name, "address": address, "request": request_text, "facts": facts, "reasons": reasons}
    try:
        throttle.check(session, key=key, now=now, limit=SUBMIT_LIMIT, window=SUBMIT_WINDOW)
    except XinfangError as exc:
        return _form(request, runtime, session, status=exc.http_status, error=exc.message, created=None)
    throttle.fail(session, key=key, now=now, window=SUBMIT_WINDOW)  # counts every attempt
    session.commit()
    missing = [
        label
        for label, v in (
            ("姓名", name),
            ("住址", address),
            ("诉求", request_text),
            ("事实", facts),
            ("理由", reasons),
        )
        if not v.strip()
    ]
    error = None
    if missing:
        error = "请填写:" + "、".join(missing)
    elif consent != "yes":
        error = "请阅读并同意个人信息处理说明后再提交"
    if error:
        return _form(request, runtime, session, status=422, error=error, created=None, values=values)
    request_line = " ".join(request_text.split())
    try:
        data = PetitionIn.model_validate(
            {
                "channel": Channel.ONLINE,
                "title": request_line[:60] + ("…" if len(request_line) > 60 else ""),
                "body": f"诉求:{request_text.strip()}\n事实:{facts.strip()}\n理由:{reasons.strip()}",
                "petitioners": [
                    {"name": name, "address": address, "phone": phone or None, "id_number": id_number or None}
                ],
                "location": {"division_code": township} if township.strip() else None,
                "source": "public",
            }
        )
    except ValidationError as exc:
        fields = {str(e["loc"][-1]) for e in exc.errors() if e.get("loc")}
        hint = "身份证号码" if "id_number" in fields else "联系电话" if "phone" in fields else "所填内容"
        return _form(
            request,
            runtime,
            session,
            status=422,
            error=f"{hint}格式不正确,请检查",
            created=None,
            values=values,
        )
    try:
        petition, _ = register_petition(
            session,
            actor=PUBLIC,
            data=data,
            now=now,
            ctx=runtime.intake_context(session),
            default_source="public",
        )
        created = {
            "number": petition.number,
            "query_code": petition.new_query_code,  # type: ignore[attr-defined]
            "name": name.strip(),
        }
        session.commit()
    except XinfangError as exc:
        session.rollback()
        return _form(
            request, runtime, session, status=exc.http_status, error=exc.message, created=None, values=values
        )
    return _form(request, runtime, session, error=None, created=created)


__all__ = ["FIELDS", "router"]
