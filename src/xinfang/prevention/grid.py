"""Grid reports (网格上报): a grid worker reports a dispute or risk from the field, with a photo and a location.

Decision (the issue leaves it open): every report becomes a ledger entry (source "grid"), which is what the
township must resolve; it becomes a petition (channel `grid`, source "grid") only when the worker ticks that the
party asks for it to be registered, so the petition statistics are not inflated by matters resolved on the spot.
Either way the entry carries its coordinates, so the analytics can map grid reports beside petitions.

The location is the browser's geolocation (lat/lng; the nearest village of the worker's township is taken as the
place) or a village picked from the list. The photo is sniffed and size-checked like any attachment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.attachments import add_attachment, sniff_content_type, store_bytes
from xinfang.cases.enums import Channel, OrgKind
from xinfang.cases.schemas import PetitionIn
from xinfang.cases.service import IntakeContext, register_petition
from xinfang.clock import local_date
from xinfang.errors import InvalidInput
from xinfang.org.models import OrgUnit
from xinfang.prevention.ledger import LedgerEntryIn, create_entry
from xinfang.prevention.models import LedgerEntry
from xinfang.security.actors import Actor
from xinfang.security.permissions import require

DUE_DAYS = {"重大": 3, "高": 7, "中": 15, "低": 30}


class GridReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(..., min_length=1, max_length=200)
    summary: str = Field(..., min_length=1, max_length=5000)
    kind: str = Field(default="其他", max_length=30)
    risk_level: str = "低"
    parties: list[str] = Field(default_factory=list, max_length=50)
    division_code: str | None = Field(default=None, pattern=r"^\d{9}(\d{3})?$")
    lng: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    register_petition: bool = False


def nearest_village(session: Session, *, lng: float, lat: float, township: str | None) -> OrgUnit | None:
    q = select(OrgUnit).where(
        OrgUnit.kind == OrgKind.VILLAGE, OrgUnit.lng.is_not(None), OrgUnit.lat.is_not(None)
    )
    if township:
        q = q.where(OrgUnit.code.startswith(township))
    villages = list(session.execute(q).scalars())
    if not villages:
        return None
    return min(villages, key=lambda v: (v.lng - lng) ** 2 + (v.lat - lat) ** 2)  # type: ignore[operator]


def report(
    session: Session,
    *,
    actor: Actor,
    data: GridReportIn,
    now: datetime,
    attachments_dir: Path,
    max_bytes: int,
    intake: IntakeContext | None = None,
    photo: bytes | None = None,
    photo_name: str = "photo.jpg",
) -> LedgerEntry:
    require(actor, "prevention.write")
    place = data.division_code
    if place is None:
        if data.lng is None or data.lat is None:
            raise InvalidInput("请选择村(社区)或允许获取位置", code="grid.no_place")
        village = nearest_village(session, lng=data.lng, lat=data.lat, township=actor.township_code)
        if village is None:
            raise InvalidInput("无法根据位置确定所在村(社区),请手动选择", code="grid.no_place")
        place = village.code
    ctype = None
    if photo:
        if len(photo) > max_bytes:
            raise InvalidInput(
                f"照片超过大小上限({max_bytes // (1024 * 1024)} MB)", code="attachment.too_large"
            )
        ctype = sniff_content_type(photo, photo_name)
        if not ctype.startswith("image/"):
            raise InvalidInput("请上传照片(JPEG 或 PNG)", code="grid.photo_type")
    today = local_date(now)
    petition = None
    if data.register_petition:
        if intake is None:
            raise InvalidInput("当前无法登记为信访件", code="grid.no_intake")
        petition, _ = register_petition(
            session,
            actor=actor,
            data=PetitionIn.model_validate(
                {
                    "channel": Channel.GRID,
                    "title": data.title,
                    "body": data.summary,
                    "petitioners": [{"name": n} for n in data.parties[:20]],
                    "location": {"division_code": place, "lng": data.lng, "lat": data.lat},
                    "source": "grid",
                }
            ),
            now=now,
            ctx=intake,
            default_source="grid",
        )
    entry, _created = create_entry(
        session,
        actor=actor,
        data=LedgerEntryIn(
            title=data.title,
            summary=data.summary,
            kind=data.kind,
            risk_level=data.risk_level,
            parties=data.parties,
            division_code=place,
            responsible_person=actor.username,
            screened_on=today,
            due_on=today + timedelta(days=DUE_DAYS.get(data.risk_level, 15)),
            lng=data.lng,
            lat=data.lat,
        ),
        now=now,
        source="grid",
    )
    if photo and ctype:
        entry.photo_sha256, entry.photo_type = store_bytes(attachments_dir, photo), ctype
        if petition is not None:
            add_attachment(
                session,
                actor=actor,
                petition=petition,
                data=photo,
                filename=photo_name,
                root=attachments_dir,
                max_bytes=max_bytes,
                now=now,
            )
    if petition is not None:
        entry.petition_id = petition.id
        entry.new_petition = petition  # type: ignore[attr-defined]  # for the page: number + query code once
    return entry


__all__ = ["DUE_DAYS", "GridReportIn", "nearest_village", "report"]
