"""In-app messages (站内消息): reminders of due-soon and overdue deadlines, 督办 notices and answers, alerts,
joint-handling and referral news. Other slices write `Notification` rows; this module is how a user reads them.

A message goes to one user (`user_id`) or to a whole unit (`unit_id`): a user's messages are both. A unit's message
is read once for the unit (whoever opens it first marks it read for colleagues too), as a paper notice on the
unit's desk would be. Each message links to what it is about: the petition, or the alert, or the dispute ledger —
only where the reader may open it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.orm import Session

from xinfang.cases.models import Notification, Petition
from xinfang.errors import NotFound
from xinfang.security.actors import Actor
from xinfang.security.permissions import can, scope_petitions

MAX_LIST = 200
# kind (or its prefix before the first "_") -> what the message is about, in the reader's words
KIND_LABELS: dict[str, str] = {
    "clock_due_soon": "临期提醒",
    "clock_overdue": "超期提醒",
    "supervision_answered": "督办回复",
    "supervision": "督办",
    "dissatisfied": "不满意评价",
    "alert_red": "红色预警",
    "alert_yellow": "黄色预警",
    "joint": "联合办理",
    "ledger": "排查化解",
    "referral": "访调诉移交",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind) or KIND_LABELS.get(kind.split("_", 1)[0], "消息")


def _mine(actor: Actor) -> ColumnElement[bool]:
    conditions = [Notification.user_id == actor.user_id] if actor.user_id is not None else []
    if actor.org_unit_id is not None:
        conditions.append(Notification.unit_id == actor.org_unit_id)
    return or_(*conditions) if conditions else Notification.id.is_(None)


def list_notifications(
    session: Session, *, actor: Actor, unread_only: bool = False, limit: int = MAX_LIST, offset: int = 0
) -> list[Notification]:
    """The actor's messages, newest first."""
    q = select(Notification).where(_mine(actor))
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    q = q.order_by(Notification.created_at.desc(), Notification.id.desc())
    return list(session.execute(q.offset(max(offset, 0)).limit(min(max(limit, 1), MAX_LIST))).scalars())


def count_notifications(session: Session, *, actor: Actor, unread_only: bool = False) -> int:
    q = select(func.count()).select_from(Notification).where(_mine(actor))
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    return int(session.execute(q).scalar_one())


def unread_count(session: Session, *, actor: Actor) -> int:
    """For the header's 消息 badge: one indexed count per page."""
    return count_notifications(session, actor=actor, unread_only=True)


def mark_read(session: Session, *, actor: Actor, notification_id: int, now: datetime) -> Notification:
    """Mark one of the actor's messages read (404 for anyone else's, so ids are not confirmed)."""
    n = session.get(Notification, notification_id)
    mine = n is not None and (
        (actor.user_id is not None and n.user_id == actor.user_id)
        or (actor.org_unit_id is not None and n.unit_id == actor.org_unit_id)
    )
    if n is None or not mine:
        raise NotFound("通知不存在", code="notification.not_found")
    if n.read_at is None:
        n.read_at = now
    return n


def mark_all_read(session: Session, *, actor: Actor, now: datetime) -> int:
    """Mark every unread message of the actor read; returns how many."""
    result = session.execute(
        update(Notification)
        .where(_mine(actor), Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Link:
    href: str
    label: str


def links_for(session: Session, *, actor: Actor, rows: list[Notification]) -> dict[int, Link]:
    """Where each message leads, if the reader may go there: the petition (if visible to them), the alert (for
    those who read alerts; its id is in the dedup key `alert:<id>:<tier>:...`), the dispute ledger."""
    petition_ids = {n.petition_id for n in rows if n.petition_id is not None}
    visible: dict[int, str] = {}
    if petition_ids:
        wanted: Select[Any] = cast(
            "Select[Any]", select(Petition.id, Petition.number).where(Petition.id.in_(petition_ids))
        )
        q = scope_petitions(wanted, actor)
        visible = {pid: number for pid, number in session.execute(q)}
    links: dict[int, Link] = {}
    for n in rows:
        if n.petition_id is not None and n.petition_id in visible:
            links[n.id] = Link(f"/petitions/{n.petition_id}", visible[n.petition_id])
        elif n.kind.startswith("alert_") and can(actor, "alert.read"):
            alert_id = _alert_id(n.dedup_key)
            if alert_id is not None:
                links[n.id] = Link(f"/alerts/{alert_id}", f"预警 {alert_id}")
        elif n.kind.startswith("ledger_") and can(actor, "prevention.read"):
            links[n.id] = Link("/prevention", "排查化解")
    return links


def _alert_id(dedup_key: str) -> int | None:
    parts = dedup_key.split(":")
    return int(parts[1]) if len(parts) > 2 and parts[0] == "alert" and parts[1].isdigit() else None


def notification_view(n: Notification, link: Link | None) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "kind_label": kind_label(n.kind),
        "message": n.message,
        "petition_id": n.petition_id,
        "created_at": n.created_at,
        "read_at": n.read_at,
        "link": link.href if link else None,
    }
