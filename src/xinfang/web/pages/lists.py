"""The inboxes (/inbox?box=...) and the petition search (/petitions): filters, XLSX export, bulk actions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from xinfang.cases import procedure, workflow
from xinfang.cases.enums import CHANNEL_LABELS, STATUS_LABELS, Channel, OrgKind, Status
from xinfang.cases.models import Petition
from xinfang.cases.service import PetitionFilter
from xinfang.cases.workflow import Action
from xinfang.clock import CHINA_TZ, local_date
from xinfang.errors import InvalidInput, PermissionDenied, XinfangError
from xinfang.inbox import service as inbox
from xinfang.org.models import OrgUnit
from xinfang.security.permissions import sees_everything
from xinfang.web.api.supervision import xlsx_response
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.pages.common import FormActorDep, render

router = APIRouter()
_ONE_DAY = timedelta(days=1)
PAGE_SIZE = 30
EXPORT_LIMIT = 5000
BULK_ACTIONS = {"accept": "批量受理", "forward": "批量转送"}
EXPORT_COLUMNS = (
    ("number", "编号"),
    ("title", "标题"),
    ("channel", "渠道"),
    ("received_at", "收到时间"),
    ("division", "问题属地"),
    ("category", "内容分类"),
    ("department", "责任单位"),
    ("status", "状态"),
    ("due_on", "最近期限"),
    ("due_state", "期限状态"),
)


def _filters(
    status: str | None,
    channel: str | None,
    category: str | None,
    department: str | None,
    division: str | None,
    q: str | None,
    start: date | None,
    end: date | None,
) -> PetitionFilter:
    return PetitionFilter(
        status=status or None,
        channel=channel or None,
        category=category or None,
        department_code=department or None,
        division_code=division or None,
        q=q or None,
        received_from=datetime.combine(start, time(), CHINA_TZ) if start else None,
        received_to=datetime.combine(end, time(), CHINA_TZ) + _ONE_DAY if end else None,
    )


def _units(session: SessionDep) -> list[OrgUnit]:
    q = select(OrgUnit).where(
        OrgUnit.kind.in_([OrgKind.DEPARTMENT.value, OrgKind.TOWNSHIP.value, OrgKind.BUREAU.value])
    )
    return list(session.execute(q.order_by(OrgUnit.kind, OrgUnit.code)).scalars())


def _division_names(session: SessionDep, rows: list[Petition]) -> dict[str, str]:
    codes = {p.division_code for p in rows if p.division_code} | {
        p.township_code for p in rows if p.township_code
    }
    if not codes:
        return {}
    return dict(session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(codes))).all())


def _place(p: Petition, names: dict[str, str]) -> str:
    parts = [names.get(p.township_code or "", "")]
    if p.division_code and p.division_code != p.township_code:
        parts.append(names.get(p.division_code, ""))
    return "".join(parts)


def _export(
    rows: list[Petition], due: dict[int, tuple[date, str]], names: dict[str, str], filename: str
) -> Response:
    from xinfang.cases.deadlines import CLOCK_STATE_LABELS, ClockState

    out: list[dict[str, Any]] = []
    for p in rows:
        d = due.get(p.id)
        out.append(
            {
                "number": p.number,
                "title": p.title,
                "channel": CHANNEL_LABELS.get(Channel(p.channel), p.channel)
                if p.channel in Channel._value2member_map_
                else p.channel,
                "received_at": p.received_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
                "division": _place(p, names),
                "category": p.category or "",
                "department": p.department.name if p.department else "",
                "status": STATUS_LABELS.get(Status(p.status), p.status)
                if p.status in Status._value2member_map_
                else p.status,
                "due_on": d[0].isoformat() if d else "",
                "due_state": CLOCK_STATE_LABELS[ClockState(d[1])] if d else "",
            }
        )
    return xlsx_response(out, EXPORT_COLUMNS, filename, "信访件")


def _list_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    *,
    box: inbox.Box,
    boxes: tuple[inbox.Box, ...] | None,
    filters: PetitionFilter,
    raw: dict[str, str],
    page: int,
    export: bool,
    template_path: str,
) -> Response:
    today = local_date(runtime.clock.now())
    if export:
        result = inbox.list_inbox(
            session, actor=actor, box=box, filters=filters, today=today, page=1, page_size=EXPORT_LIMIT
        )
        names = _division_names(session, result.rows)
        return _export(result.rows, result.due, names, f"xinfang-{box.value}-{today}.xlsx")
    result = inbox.list_inbox(
        session, actor=actor, box=box, filters=filters, today=today, page=page, page_size=PAGE_SIZE
    )
    counts = inbox.box_counts(session, actor=actor, boxes=boxes, today=today) if boxes else {}
    query = {k: v for k, v in raw.items() if v}
    return render(
        request,
        "list.html",
        runtime,
        actor,
        box=box,
        boxes=boxes,
        box_labels=inbox.BOX_LABELS,
        counts=counts,
        rows=result.rows,
        due=result.due,
        names=_division_names(session, result.rows),
        total=result.total,
        page=page,
        pages=max(1, -(-result.total // PAGE_SIZE)),
        filters=raw,
        query=urlencode(query),
        export_url=f"{template_path}?{urlencode(query | {'format': 'xlsx'})}",
        page_url=lambda n: f"{template_path}?{urlencode(query | {'page': n})}",
        units=_units(session),
        bulk_actions=_bulk_actions_for(actor, box),
        title="收件箱" if boxes else "信访件",
        base_path=template_path,
        done=request.query_params.get("done"),
        failed=request.query_params.get("failed"),
    )


def _bulk_actions_for(actor: ActorDep, box: inbox.Box) -> dict[str, str]:
    """The bulk steps offered: only those the procedure table lets this role take (the administrator, who takes
    no procedural step, gets none), in the boxes whose petitions they apply to."""
    offered: dict[str, str] = {}
    if box in (inbox.Box.TO_ACCEPT, inbox.Box.ALL) and actor.role in workflow.TABLE[Action.ACCEPT].roles:
        offered["accept"] = BULK_ACTIONS["accept"]
    forwards = actor.role in workflow.TABLE[Action.FORWARD].roles and sees_everything(actor)
    if box in (inbox.Box.RETURNED, inbox.Box.ALL) and forwards:
        offered["forward"] = BULK_ACTIONS["forward"]
    return offered


class ListQuery:
    """The search and filter parameters every petition list takes (inbox boxes and the plain list alike)."""

    def __init__(
        self,
        status: str | None = None,
        channel: str | None = None,
        category: Annotated[str | None, Query(max_length=50)] = None,
        department: Annotated[str | None, Query(max_length=32)] = None,
        division: Annotated[str | None, Query(pattern=r"^\d{0,12}$")] = None,
        q: Annotated[str | None, Query(max_length=100)] = None,
        start: Annotated[date | None, Query(alias="from")] = None,
        end: Annotated[date | None, Query(alias="to")] = None,
        # bounded: the OFFSET must fit a 64-bit integer (else a 500)
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        format: Annotated[str, Query(pattern="^(html|xlsx)$")] = "html",
    ) -> None:
        self.values = {
            "status": status,
            "channel": channel,
            "category": category,
            "department": department,
            "division": division,
            "q": q,
            "start": start,
            "end": end,
        }
        self.page = page
        self.export = format == "xlsx"

    def filters(self) -> PetitionFilter:
        return _filters(**self.values)

    def raw(self, **extra: str) -> dict[str, str]:
        return _raw(**extra, **self.values)


ListQueryDep = Annotated[ListQuery, Depends()]


@router.get("/inbox")
def inbox_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    query: ListQueryDep,
    box: str | None = None,
) -> Response:
    chosen = inbox.parse_box(box, actor.role)
    return _list_page(
        request,
        session,
        runtime,
        actor,
        box=chosen,
        boxes=inbox.ROLE_BOXES[actor.role],
        filters=query.filters(),
        raw=query.raw(box=chosen.value),
        page=query.page,
        export=query.export,
        template_path="/inbox",
    )


@router.get("/petitions")
def petition_list(
    request: Request, session: SessionDep, runtime: RuntimeDep, actor: ActorDep, query: ListQueryDep
) -> Response:
    return _list_page(
        request,
        session,
        runtime,
        actor,
        box=inbox.Box.ALL,
        boxes=None,
        filters=query.filters(),
        raw=query.raw(),
        page=query.page,
        export=query.export,
        template_path="/petitions",
    )


def _raw(**values: Any) -> dict[str, str]:
    out = {k: ("" if v is None else str(v)) for k, v in values.items()}
    out["from"] = out.pop("start", "")
    out["to"] = out.pop("end", "")
    return out


@router.post("/inbox/bulk")
async def bulk_action(
    request: Request, session: SessionDep, runtime: RuntimeDep, actor: FormActorDep
) -> Response:
    """Take the same step on several petitions (受理 or 转送); each in its own transaction, failures counted."""
    form = await request.form()
    action = str(form.get("action") or "")
    if action not in BULK_ACTIONS:
        raise InvalidInput("不支持的批量操作", code="inbox.bulk_unknown_action")
    if action not in _bulk_actions_for(actor, inbox.Box.ALL):
        raise PermissionDenied(
            f"当前角色无权{BULK_ACTIONS[action]}", code="inbox.bulk_not_permitted", action=action
        )
    ids = [int(v) for v in form.getlist("ids") if str(v).isdigit()][:200]
    payload: dict[str, Any] = {}
    if action == "forward":
        payload = {
            "department": str(form.get("department") or ""),
            "note": str(form.get("note") or "批量转送"),
        }
    back = str(form.get("back") or "/inbox")
    if not back.startswith("/") or back.startswith("//"):
        back = "/inbox"
    done = failed = 0
    for pid in ids:
        try:
            procedure.take_action(
                session,
                actor=actor,
                petition_id=pid,
                action=action,
                payload=payload,
                now=runtime.clock.now(),
                ctx=runtime.procedure,
            )
            session.commit()
            done += 1
        except (XinfangError, StaleDataError):
            session.rollback()
            failed += 1
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}done={done}&failed={failed}", status_code=303)
