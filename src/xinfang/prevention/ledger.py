"""The dispute-screening ledger (矛盾纠纷排查化解台账): record, read, mediate, close, remind and escalate.

Scope: county-level staff (bureau, supervisors, leaders) see every entry; a township sees the entries in its
township; any other unit sees the entries it is responsible for. Entries hold party *names* only; ID and phone
numbers a user types into the text are masked before storage (and, unlike petitions, no original is kept).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session, selectinload

from xinfang.cases.enums import OrgKind
from xinfang.cases.models import Notification
from xinfang.clock import local_date
from xinfang.errors import InvalidInput, NotFound, PermissionDenied
from xinfang.org.models import OrgUnit
from xinfang.org.service import find_unit
from xinfang.prevention.models import LedgerEntry, MediationStep
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, sees_everything
from xinfang.security.redaction import redact

RISK_LEVELS = ("低", "中", "高", "重大")
STATUSES = {"open": "化解中", "resolved": "已化解", "unresolved": "未化解"}
STATUS_BY_LABEL = {v: k for k, v in STATUSES.items()} | {"化解": "resolved", "稳控": "open", "在化解": "open"}
KINDS = (
    "婚姻家庭",
    "邻里纠纷",
    "土地山林",
    "征地拆迁",
    "劳资纠纷",
    "工程建设",
    "环境污染",
    "医疗纠纷",
    "其他",
)
DUE_SOON_DAYS = 3
ESCALATE_AFTER_DAYS = 7  # overdue this long: the county bureau is told as well
BUREAU_CODE = "xfj"
_NAME = re.compile(r"^[\u4e00-\u9fffA-Za-z·．.]{1,20}$")


class LedgerEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(..., min_length=1, max_length=200)
    summary: str = Field(..., min_length=1, max_length=5000)
    kind: str = Field(default="其他", max_length=30)
    risk_level: str = Field("低")
    parties: list[str] = Field(default_factory=list, max_length=50)
    division_code: str = Field(
        ..., pattern=r"^\d{9}(\d{3})?$", description="township (9) or village (12 digits)"
    )
    responsible_person: str = Field(..., min_length=1, max_length=50)
    screened_on: date
    due_on: date
    lng: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)

    @field_validator("risk_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v not in RISK_LEVELS:
            raise ValueError(f"风险等级须为{'、'.join(RISK_LEVELS)}之一")
        return v

    @field_validator("parties")
    @classmethod
    def _names_only(cls, v: list[str]) -> list[str]:
        names = [n.strip() for n in v if n and n.strip()]
        for n in names:
            if not _NAME.match(n):
                raise ValueError("当事人只填写姓名(不含证件号、电话等数字)")
        return list(dict.fromkeys(names))

    @model_validator(mode="after")
    def _dates(self) -> LedgerEntryIn:
        if self.due_on < self.screened_on:
            raise ValueError("化解期限不能早于排查日期")
        return self


def split_parties(text: str | None) -> list[str]:
    return [p for p in re.split(r"[、,，;；/\s]+", text or "") if p]


def scope_entries(query: Select[Any], actor: Actor) -> Select[Any]:
    if sees_everything(actor):
        return query
    if actor.org_unit_id is None:
        return query.where(false())
    conditions = [LedgerEntry.responsible_unit_id == actor.org_unit_id]
    if actor.township_code:
        conditions.append(LedgerEntry.township_code == actor.township_code)
    return query.where(or_(*conditions))


def may_see_entry(actor: Actor, entry: LedgerEntry) -> bool:
    if sees_everything(actor):
        return True
    if actor.township_code and entry.township_code == actor.township_code:
        return True
    return actor.org_unit_id is not None and entry.responsible_unit_id == actor.org_unit_id


def dedup_key(data: LedgerEntryIn) -> str:
    material = json.dumps(
        [data.title, data.division_code, data.screened_on.isoformat(), sorted(data.parties)],
        ensure_ascii=False,
    )
    return "sha:" + hashlib.sha256(material.encode("utf-8")).hexdigest()


def _place(session: Session, code: str) -> OrgUnit:
    unit = find_unit(session, code)
    if unit is None or unit.kind not in (OrgKind.TOWNSHIP, OrgKind.VILLAGE):
        raise InvalidInput(f"未知的乡镇或村:{code}", code="prevention.unknown_place", division_code=code)
    return unit


def _responsible_unit(session: Session, place: OrgUnit, actor: Actor) -> OrgUnit | None:
    """The township government of the place (a village's parent); else the recording unit."""
    if place.kind == OrgKind.TOWNSHIP:
        return place
    if place.parent is not None:
        return place.parent
    return session.get(OrgUnit, actor.org_unit_id) if actor.org_unit_id else None


def create_entry(
    session: Session,
    *,
    actor: Actor,
    data: LedgerEntryIn,
    now: datetime,
    source: str = "manual",
    is_demo: bool = False,
) -> tuple[LedgerEntry, bool]:
    """Record an entry; the same entry recorded again (title, place, date, parties) returns the first."""
    require(actor, "prevention.write")
    place = _place(session, data.division_code)
    township = data.division_code[:9]
    if actor.township_code and actor.township_code != township:
        raise PermissionDenied("乡镇只能登记本乡镇的矛盾纠纷", code="prevention.other_township")
    key = dedup_key(data)
    existing = session.execute(select(LedgerEntry).where(LedgerEntry.dedup_key == key)).scalar_one_or_none()
    if existing is not None:
        return existing, False
    entry = LedgerEntry(
        title=redact(data.title).text,
        summary=redact(data.summary).text,
        kind=data.kind,
        risk_level=data.risk_level,
        parties=data.parties,
        division_code=data.division_code,
        township_code=township,
        lng=data.lng if data.lng is not None else place.lng,
        lat=data.lat if data.lat is not None else place.lat,
        responsible_person=data.responsible_person,
        responsible_unit=_responsible_unit(session, place, actor),
        screened_on=data.screened_on,
        due_on=data.due_on,
        status="open",
        source=source,
        dedup_key=key,
        is_demo=is_demo,
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="prevention.ledger.create",
        at=now,
        object_type="ledger_entry",
        object_id=entry.id,
        details={"township": township, "risk_level": data.risk_level, "source": source},
    )
    return entry, True


def get_entry(session: Session, *, actor: Actor, entry_id: int) -> LedgerEntry:
    require(actor, "prevention.read")
    entry = session.execute(
        select(LedgerEntry)
        .where(LedgerEntry.id == entry_id)
        .options(selectinload(LedgerEntry.steps), selectinload(LedgerEntry.links))
    ).scalar_one_or_none()
    if entry is None or not may_see_entry(actor, entry):
        raise NotFound("台账条目不存在或无权查看", code="prevention.not_found")
    return entry


def list_entries(
    session: Session,
    *,
    actor: Actor,
    today: date,
    township: str | None = None,
    status: str | None = None,
    overdue: bool = False,
    limit: int = 200,
) -> list[LedgerEntry]:
    require(actor, "prevention.read")
    q = scope_entries(select(LedgerEntry), actor)
    if township:
        q = q.where(LedgerEntry.township_code == township)
    if status:
        q = q.where(LedgerEntry.status == status)
    if overdue:
        q = q.where(LedgerEntry.status == "open", LedgerEntry.due_on < today)
    q = q.order_by(LedgerEntry.due_on, LedgerEntry.id).limit(min(max(limit, 1), 1000))
    return list(session.execute(q).scalars())


def add_step(
    session: Session, *, actor: Actor, entry_id: int, step_on: date, note: str, now: datetime
) -> MediationStep:
    require(actor, "prevention.write")
    entry = get_entry(session, actor=actor, entry_id=entry_id)
    if not note.strip():
        raise InvalidInput("请填写调解/化解措施", code="prevention.step_empty")
    if step_on > local_date(now) or step_on < entry.screened_on:
        raise InvalidInput("措施日期须在排查日期与今天之间", code="prevention.step_date")
    step = MediationStep(
        entry=entry,
        step_on=step_on,
        note=redact(note.strip()[:5000]).text,
        created_at=now,
        actor_id=actor.user_id,
    )
    session.add(step)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="prevention.ledger.step",
        at=now,
        object_type="ledger_entry",
        object_id=entry.id,
        details={"step_id": step.id},
    )
    return step


def close_entry(
    session: Session, *, actor: Actor, entry_id: int, status: str, outcome: str, now: datetime
) -> LedgerEntry:
    """Record the outcome: resolved (已化解) or not resolved (未化解); an open entry may also get a new outcome note."""
    require(actor, "prevention.write")
    entry = get_entry(session, actor=actor, entry_id=entry_id)
    if status not in STATUSES:
        raise InvalidInput("状态须为 open/resolved/unresolved", code="prevention.bad_status")
    if not outcome.strip():
        raise InvalidInput("请填写化解结果", code="prevention.outcome_empty")
    entry.status, entry.outcome = status, redact(outcome.strip()[:5000]).text
    entry.closed_on = local_date(now) if status != "open" else None
    audit.record(
        session,
        actor=actor,
        action="prevention.ledger.close",
        at=now,
        object_type="ledger_entry",
        object_id=entry.id,
        details={"status": status},
    )
    return entry


def entry_view(entry: LedgerEntry, today: date) -> dict[str, Any]:
    overdue_days = (today - entry.due_on).days if entry.status == "open" and entry.due_on < today else 0
    return {
        "id": entry.id,
        "title": entry.title,
        "summary": entry.summary,
        "kind": entry.kind,
        "risk_level": entry.risk_level,
        "parties": entry.parties,
        "division_code": entry.division_code,
        "township_code": entry.township_code,
        "lng": entry.lng,
        "lat": entry.lat,
        "responsible_person": entry.responsible_person,
        "responsible_unit": entry.responsible_unit.name if entry.responsible_unit else None,
        "screened_on": entry.screened_on,
        "due_on": entry.due_on,
        "status": entry.status,
        "status_label": STATUSES.get(entry.status, entry.status),
        "outcome": entry.outcome,
        "closed_on": entry.closed_on,
        "overdue_days": overdue_days,
        "escalated": entry.escalated_at is not None,
        "source": entry.source,
        "has_photo": entry.photo_sha256 is not None,
        "petition_id": entry.petition_id,
        "steps": [{"id": s.id, "on": s.step_on, "note": s.note} for s in entry.steps],
        "linked_petitions": [
            {"petition_id": link.petition_id, "number": link.petition.number, "kind": link.kind}
            for link in entry.links
        ],
        "is_demo": entry.is_demo,
    }


# ---- reminders and escalation ---------------------------------------------------------------------------------


def remind(
    session: Session, *, now: datetime, escalate_after_days: int = ESCALATE_AFTER_DAYS
) -> dict[str, int]:
    """Due-soon and overdue entries notify their responsible unit; entries overdue `escalate_after_days` or more
    are escalated to the county bureau (once each). Co-handling tasks are reminded the same way. Idempotent."""
    from xinfang.prevention.joint import remind_tasks

    today = local_date(now)
    bureau = session.execute(select(OrgUnit).where(OrgUnit.code == BUREAU_CODE)).scalar_one_or_none()
    existing = set(
        session.execute(
            select(Notification.dedup_key).where(Notification.dedup_key.like("ledger:%"))
        ).scalars()
    )
    counts = {"due_soon": 0, "overdue": 0, "escalated": 0}
    rows = session.execute(
        select(LedgerEntry).where(
            LedgerEntry.status == "open", LedgerEntry.due_on <= today + timedelta(days=DUE_SOON_DAYS)
        )
    ).scalars()
    for entry in rows:
        late = (today - entry.due_on).days
        state = "overdue" if late > 0 else "due_soon"
        _notify(
            session,
            existing,
            key=f"ledger:{entry.id}:{state}",
            unit_id=entry.responsible_unit_id,
            kind=f"ledger_{state}",
            now=now,
            message=f"矛盾纠纷台账「{entry.title[:40]}」"
            + (f"已超过化解期限{late}天" if late > 0 else f"将于{entry.due_on.isoformat()}到期"),
            counts=counts,
            count_as=state,
        )
        if (
            late >= escalate_after_days
            and bureau is not None
            and _notify(
                session,
                existing,
                key=f"ledger:{entry.id}:escalated",
                unit_id=bureau.id,
                kind="ledger_escalated",
                now=now,
                message=f"矛盾纠纷台账「{entry.title[:40]}」超期{late}天未化解,已升级至县信访局(风险{entry.risk_level})",
                counts=counts,
                count_as="escalated",
            )
        ):
            entry.escalated_at = now
    counts.update(remind_tasks(session, now=now))
    return counts


def _notify(
    session: Session,
    existing: set[str],
    *,
    key: str,
    unit_id: int | None,
    kind: str,
    now: datetime,
    message: str,
    counts: dict[str, int],
    count_as: str,
) -> bool:
    if unit_id is None or key in existing:
        return False
    session.add(
        Notification(unit_id=unit_id, kind=kind, message=message[:500], dedup_key=key, created_at=now)
    )
    existing.add(key)
    counts[count_as] += 1
    return True
