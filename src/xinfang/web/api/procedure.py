"""The lawful procedure over HTTP: take a step, list clocks, download written notices, read notifications."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from xinfang.cases import notifications, procedure, service
from xinfang.cases.attachments import read_stored
from xinfang.cases.deadlines import is_duty
from xinfang.cases.models import Clock, Document, Petition
from xinfang.cases.schemas import PetitionRead
from xinfang.clock import local_date
from xinfang.errors import Conflict, NotFound
from xinfang.security.permissions import may_see_petition, require_petition_visible, scope_petitions
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.openapi_docs import files
from xinfang.web.presenters import action_spec, petition_read

router = APIRouter(prefix="/api", tags=["procedure"])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.post("/petitions/{petition_id}/actions/{action}", response_model=PetitionRead)
def take_action(
    petition_id: int,
    action: str,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    payload: Annotated[dict[str, Any] | None, Body()] = None,
) -> PetitionRead:
    """Take one step of the procedure (forward, accept, reply, ...). 409 for a step the procedure does not allow
    now, 403 for a role or unit that may not take it, 422 for a payload that lacks what the step requires."""
    now = runtime.clock.now()
    try:
        petition = procedure.take_action(
            session,
            actor=actor,
            petition_id=petition_id,
            action=action,
            payload=payload or {},
            now=now,
            ctx=runtime.procedure,
        )
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise Conflict("信访件已被他人修改,请刷新后重试", code="petition.stale") from exc
    # The actor may no longer see the petition (an objection hands it back to the bureau); the result of their own
    # step is still theirs to see, with no further actions offered.
    session.expire_all()
    petition = session.get(Petition, petition_id) or petition
    today = local_date(now)
    view = petition_read(session, petition, today=today)
    if may_see_petition(actor, petition):
        view.actions = [action_spec(s) for s in procedure.available_actions(petition, actor, today)]
    return view


@router.get("/documents/{document_id}", response_class=Response, responses=files(DOCX))
def download_document(
    document_id: int, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> Response:
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound("文书不存在", code="document.not_found")
    require_petition_visible(actor, doc.petition)
    data = read_stored(runtime.settings.attachments_dir, doc.sha256)
    name = f"{doc.petition.number}-{doc.title}.docx"
    return Response(
        data,
        media_type=DOCX,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/clocks")
def list_clocks(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    state: Annotated[str | None, Query(pattern="^(overdue|due_soon|on_time)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Open statutory clocks of petitions in the actor's scope (petitioners' own windows excluded)."""
    today = local_date(runtime.clock.now())
    q = (
        select(Clock)
        .join(Petition, Clock.petition_id == Petition.id)
        .where(Clock.closed_on.is_(None), Clock.binds_petitioner.is_(False))
        .options(selectinload(Clock.petition), selectinload(Clock.unit))
        .order_by(Clock.due_on)
    )
    q = scope_petitions(q, actor)
    rows = []
    for clock in session.execute(q).scalars():
        st = procedure.clock_status(clock, today)
        if st == "overdue" and not is_duty(clock.rule):
            continue  # a lapsed right (e.g. to object) is not overdue work
        if state and st != state:
            continue
        rows.append(
            {
                "petition_id": clock.petition_id,
                "number": clock.petition.number,
                "title": clock.petition.title,
                "rule": clock.rule,
                "unit": clock.unit.name if clock.unit else None,
                "start_on": clock.start_on,
                "due_on": clock.due_on,
                "state": st,
            }
        )
        if len(rows) >= limit:
            break
    return rows


@router.get("/notifications")
def my_notifications(session: SessionDep, actor: ActorDep, unread: bool = True) -> list[dict[str, Any]]:
    """The user's in-app messages (and their unit's), newest first, at most 200; `unread=false` for all. Each
    has `link`: the page it is about (petition, alert, ledger), where the user may open it."""
    rows = notifications.list_notifications(session, actor=actor, unread_only=unread)
    links = notifications.links_for(session, actor=actor, rows=rows)
    return [notifications.notification_view(n, links.get(n.id)) for n in rows]


@router.post("/notifications/read-all")
def mark_all_read(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    _: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, int]:
    """Mark all of the user's unread messages read."""
    marked = notifications.mark_all_read(session, actor=actor, now=runtime.clock.now())
    session.commit()
    return {"marked": marked}


@router.post("/notifications/{notification_id}/read", status_code=204)
def mark_read(
    notification_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    _: Annotated[dict[str, Any] | None, Body()] = None,
) -> Response:
    notifications.mark_read(session, actor=actor, notification_id=notification_id, now=runtime.clock.now())
    session.commit()
    return Response(status_code=204)


@router.post("/petitions/{petition_id}/repeat-of-final", response_model=PetitionRead)
def judge_repeat_of_final(
    petition_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    final_id: Annotated[int | None, Body(embed=True)],
    reason: Annotated[str, Body(embed=True, min_length=2, max_length=500)],
) -> PetitionRead:
    """Record the clerk's judgement whether this petition repeats a matter final after 复核 (三级终结)."""
    now = runtime.clock.now()
    petition = service.set_repeat_of_final(
        session, actor=actor, petition_id=petition_id, final_id=final_id, reason=reason, now=now
    )
    session.commit()
    today = local_date(now)
    view = petition_read(session, petition, today=today)
    view.actions = [action_spec(s) for s in procedure.available_actions(petition, actor, today)]
    return view
