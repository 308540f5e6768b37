"""Key petitioners (重点人员): people who petition repeatedly, skip levels or organise group petitions.

A sensitive label about identifiable people, so: only roles holding `analytics.key_petitioners` (supervisor, leader,
admin) may list them; every listing is written to the audit chain (who, when, which period, how many people, never
who they are); personal data appears masked only (name 张*, ID region + last 4, phone 3 + last 4).

Identity is the blind index (HMAC-SM3) of the ID number, else of the phone: the same person across sources (a
12345 call and a visit) is one identity without decrypting anything. Rows without either are not identities.
The identity key shown is a short hash of the blind index, stable across calls and useless outside the database.

Criteria for the period (all petitions received in [from, to]):
- repeat: REPEAT_MIN or more petitions;
- skip_level (越级): a petition handed down from above (channel `assigned`), or the dispatch engine's escalation
  risk signal (去北京上访, 到省里 ...);
- group_organiser: representative (is_representative) of a group petition (headcount >= GROUP_MIN) or of a petition
  whose text carries the group risk signal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinfang.cases.models import Petition, Petitioner
from xinfang.clock import local_date
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require

REPEAT_MIN = 3
GROUP_MIN = 5
KIND_LABELS = {"repeat": "重复信访", "skip_level": "越级信访", "group_organiser": "集体访组织者"}
COLUMNS: tuple[tuple[str, str], ...] = (
    ("identity", "人员标识"),
    ("name", "姓名"),
    ("id_number", "身份证号"),
    ("phone", "电话"),
    ("kinds_label", "类别"),
    ("petitions", "信访件数"),
    ("first_on", "首次"),
    ("last_on", "最近"),
    ("townships", "乡镇"),
    ("categories", "内容分类"),
)


def _mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name and name != "匿名" else name


@dataclass
class _Person:
    identity: str
    name: str = ""
    id_number: str | None = None
    phone: str | None = None
    kinds: set[str] = field(default_factory=set)
    history: list[dict[str, Any]] = field(default_factory=list)


def list_key_petitioners(
    session: Session, *, actor: Actor, start_at: datetime, end_at: datetime, now: datetime
) -> list[dict[str, Any]]:
    require(actor, "analytics.key_petitioners")
    identity = func.coalesce(Petitioner.id_number_bidx, Petitioner.phone_bidx)
    rows = session.execute(
        select(
            identity,
            Petitioner.name,
            Petitioner.id_number_masked,
            Petitioner.phone_masked,
            Petitioner.is_representative,
            Petition.id,
            Petition.number,
            Petition.received_at,
            Petition.channel,
            Petition.category,
            Petition.status,
            Petition.township_code,
            Petition.headcount,
            Petition.source,
            Petition.analysis,
        )
        .join(Petition, Petition.id == Petitioner.petition_id)
        .where(identity.is_not(None), Petition.received_at >= start_at, Petition.received_at < end_at)
        .order_by(Petition.received_at, Petition.id)
    )
    people: dict[str, _Person] = {}
    for (
        bidx,
        name,
        id_masked,
        phone_masked,
        is_rep,
        pid,
        number,
        at,
        channel,
        category,
        status,
        township,
        headcount,
        source,
        analysis,
    ) in rows:
        key = hashlib.sha256(bidx.encode()).hexdigest()[:12]
        person = people.setdefault(key, _Person(identity=key))
        person.name = person.name or _mask_name(name)
        person.id_number = person.id_number or id_masked
        person.phone = person.phone or phone_masked
        risks = {r.get("type") for r in ((analysis or {}).get("risks") or [])}
        if channel == "assigned" or "escalation" in risks:
            person.kinds.add("skip_level")
        if is_rep and ((headcount or 0) >= GROUP_MIN or "group" in risks):
            person.kinds.add("group_organiser")
        person.history.append(
            {
                "petition_id": pid,
                "number": number,
                "received_on": local_date(at).isoformat(),
                "channel": channel,
                "source": source,
                "category": category,
                "status": status,
                "township_code": township,
                "headcount": headcount,
            }
        )
    out = []
    for person in people.values():
        if len(person.history) >= REPEAT_MIN:
            person.kinds.add("repeat")
        if not person.kinds:
            continue
        kinds = sorted(person.kinds)
        out.append(
            {
                "identity": person.identity,
                "name": person.name,
                "id_number": person.id_number,
                "phone": person.phone,
                "kinds": kinds,
                "kinds_label": "、".join(KIND_LABELS[k] for k in kinds),
                "petitions": len(person.history),
                "first_on": person.history[0]["received_on"],
                "last_on": person.history[-1]["received_on"],
                "townships": sorted({h["township_code"] for h in person.history if h["township_code"]}),
                "categories": sorted({h["category"] for h in person.history if h["category"]}),
                "history": person.history,
            }
        )
    out.sort(key=lambda p: (-len(p["kinds"]), -p["petitions"], p["identity"]))
    audit.record(
        session,
        actor=actor,
        action="analytics.key_petitioners.view",
        at=now,
        object_type="key_petitioners",
        details={
            "from": start_at.isoformat(),
            "to": end_at.isoformat(),
            "people": len(out),
        },
    )
    return out
