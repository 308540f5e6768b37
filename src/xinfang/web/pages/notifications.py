"""站内消息 (/notifications): the user's reminders, 督办 notices and answers, alerts; each with a link to what it is
about and a mark-read button, and a mark-all-read button. The same `cases.notifications` service as
/api/notifications; the header's 消息 link shows the unread count (pages.common.render)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xinfang.cases import notifications
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.pages.common import FormActorDep, render

router = APIRouter()
PAGE_SIZE = 50


@router.get("/notifications")
def notifications_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    show: Annotated[str, Query(pattern="^(unread|all)$")] = "unread",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    unread_only = show == "unread"
    rows = notifications.list_notifications(
        session, actor=actor, unread_only=unread_only, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    links = notifications.links_for(session, actor=actor, rows=rows)
    total = notifications.count_notifications(session, actor=actor, unread_only=unread_only)
    return render(
        request,
        "notifications.html",
        runtime,
        actor,
        items=[notifications.notification_view(n, links.get(n.id)) for n in rows],
        show=show,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        marked=request.query_params.get("marked"),
    )


def _back(show: object) -> str:
    return "/notifications?show=all" if show == "all" else "/notifications"


@router.post("/notifications/read-all")
async def read_all(
    request: Request, session: SessionDep, runtime: RuntimeDep, actor: FormActorDep
) -> Response:
    marked = notifications.mark_all_read(session, actor=actor, now=runtime.clock.now())
    session.commit()
    show = (await request.form()).get("show")
    sep = "&" if show == "all" else "?"
    return RedirectResponse(f"{_back(show)}{sep}marked={marked}", status_code=303)


@router.post("/notifications/{notification_id}/read")
async def read_one(
    notification_id: int, request: Request, session: SessionDep, runtime: RuntimeDep, actor: FormActorDep
) -> Response:
    notifications.mark_read(session, actor=actor, notification_id=notification_id, now=runtime.clock.now())
    session.commit()
    show = (await request.form()).get("show")
    return RedirectResponse(_back(show), status_code=303)
