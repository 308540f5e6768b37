"""The stability risk assessment register (重大决策社会稳定风险评估) and what happened after each project started.

Related records: petitions (every channel; 12345 hotline records are petitions with channel `hotline` in this
system) received from the project's start, in one of its places (a township code covers its villages), whose title
or body contains one of its keywords. They are counted per township and per channel and mapped as points (GeoJSON,
petitions with coordinates only, no personal data).

Flagging (policy, the issue leaves it open): over the monitoring window [start, min(today, start + WINDOW_DAYS)],
an assessment of 低 or 中 risk is flagged as having missed a risk when the related records reach SURGE_MIN[level] and
at least twice the number (plus one) in the equally long window just before the start (the baseline: matters that
existed anyway). 高 risk assessments foresaw trouble and are never flagged as misses, only counted.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from xinfang.cases.models import Petition
from xinfang.clock import CHINA_TZ, local_date
from xinfang.errors import InvalidInput, NotFound
from xinfang.org.models import OrgUnit
from xinfang.prevention.models import RiskProject
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, scope_petitions

KINDS = ("征地", "拆迁", "学校撤并", "价格调整", "其他")
LEVELS = ("低", "中", "高")
CONCLUSIONS = ("准予实施", "暂缓实施", "不予实施")
WINDOW_DAYS = 180
SURGE_MIN = {"低": 5, "中": 10}


class RiskProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(..., min_length=1, max_length=200)
    kind: str
    risk_level: str
    risk_points: str = Field(..., min_length=1, max_length=10_000)
    measures: str = Field(..., min_length=1, max_length=10_000)
    responsible_unit: str = Field(..., min_length=1, max_length=32)
    conclusion: str
    assessed_on: date
    start_on: date
    places: list[str] = Field(..., min_length=1, max_length=50)
    keywords: list[str] = Field(..., min_length=1, max_length=30)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in KINDS:
            raise ValueError(f"项目类型须为{'、'.join(KINDS)}之一")
        return v

    @field_validator("risk_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v not in LEVELS:
            raise ValueError(f"风险等级须为{'、'.join(LEVELS)}之一")
        return v

    @field_validator("conclusion")
    @classmethod
    def _conclusion(cls, v: str) -> str:
        if v not in CONCLUSIONS:
            raise ValueError(f"评估结论须为{'、'.join(CONCLUSIONS)}之一")
        return v

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, v: list[str]) -> list[str]:
        words = [w.strip() for w in v if w and w.strip()]
        if not words or any(len(w) < 2 or len(w) > 20 for w in words):
            raise ValueError("关键词每个2至20字")
        return list(dict.fromkeys(words))

    @field_validator("places")
    @classmethod
    def _places(cls, v: list[str]) -> list[str]:
        for code in v:
            if not code.isdigit() or len(code) not in (9, 12):
                raise ValueError("地点须为乡镇(9位)或村(12位)区划代码")
        return list(dict.fromkeys(v))


def create_project(
    session: Session, *, actor: Actor, data: RiskProjectIn, now: datetime, is_demo: bool = False
) -> RiskProject:
    require(actor, "prevention.assess")
    unit = session.execute(select(OrgUnit).where(OrgUnit.code == data.responsible_unit)).scalar_one_or_none()
    if unit is None:
        raise InvalidInput(f"未知的责任单位:{data.responsible_unit}", code="risk.unknown_unit")
    known = set(session.execute(select(OrgUnit.code).where(OrgUnit.code.in_(data.places))).scalars())
    if set(data.places) - known:
        raise InvalidInput(
            "地点中有未知的区划代码", code="risk.unknown_place", places=sorted(set(data.places) - known)
        )
    if data.start_on < data.assessed_on:
        raise InvalidInput("项目实施日期不能早于评估日期", code="risk.start_before_assessment")
    project = RiskProject(
        name=data.name,
        kind=data.kind,
        risk_level=data.risk_level,
        risk_points=data.risk_points,
        measures=data.measures,
        responsible_unit=unit,
        conclusion=data.conclusion,
        assessed_on=data.assessed_on,
        start_on=data.start_on,
        places=data.places,
        keywords=data.keywords,
        is_demo=is_demo,
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(project)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="prevention.risk.create",
        at=now,
        object_type="risk_project",
        object_id=project.id,
        details={"kind": data.kind, "level": data.risk_level},
    )
    return project


def _instant(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)


def _related_query(project: RiskProject, lo: date, hi: date) -> Any:
    """Petitions in [lo, hi) about the project: place, keyword and time."""
    places = or_(*(Petition.division_code.startswith(code, autoescape=True) for code in project.places))
    words = or_(
        *(
            or_(Petition.title.contains(w, autoescape=True), Petition.body.contains(w, autoescape=True))
            for w in project.keywords
        )
    )
    return select(Petition).where(
        and_(Petition.received_at >= _instant(lo), Petition.received_at < _instant(hi)), places, words
    )


def _window(project: RiskProject, today: date) -> tuple[date, date]:
    end = min(today + timedelta(days=1), project.start_on + timedelta(days=WINDOW_DAYS))
    return project.start_on, max(end, project.start_on)


def monitor(session: Session, project: RiskProject, today: date) -> dict[str, Any]:
    """Counts after the start vs. the baseline before it, and the flag. Counts are county-wide figures."""
    lo, hi = _window(project, today)
    after = list(session.execute(_related_query(project, lo, hi)).scalars())
    length = (hi - lo).days
    before = len(list(session.execute(_related_query(project, lo - timedelta(days=length), lo)).scalars()))
    minimum = SURGE_MIN.get(project.risk_level)
    started = project.start_on <= today
    flagged = bool(started and minimum is not None and len(after) >= minimum and len(after) >= 2 * before + 1)
    reason = None
    if flagged:
        reason = (
            f"评估为{project.risk_level}风险,实施后{length}天内相关信访/热线{len(after)}件"
            f"(实施前同期{before}件),评估可能遗漏风险点"
        )
    return {
        "window": {"from": lo, "to": hi - timedelta(days=1)},
        "related": len(after),
        "baseline": before,
        "by_township": dict(Counter(p.township_code or "未定位" for p in after)),
        "by_channel": dict(Counter(p.channel for p in after)),
        "flagged": flagged,
        "flag_reason": reason,
    }


def project_view(project: RiskProject) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "kind": project.kind,
        "risk_level": project.risk_level,
        "risk_points": project.risk_points,
        "measures": project.measures,
        "responsible_unit": project.responsible_unit.name if project.responsible_unit else None,
        "conclusion": project.conclusion,
        "assessed_on": project.assessed_on,
        "start_on": project.start_on,
        "places": project.places,
        "keywords": project.keywords,
        "is_demo": project.is_demo,
    }


def list_projects(session: Session, *, actor: Actor, today: date) -> list[dict[str, Any]]:
    require(actor, "prevention.read")
    rows = session.execute(
        select(RiskProject).order_by(RiskProject.start_on.desc(), RiskProject.id)
    ).scalars()
    return [{**project_view(p), "monitoring": monitor(session, p, today)} for p in rows]


def get_project(session: Session, *, actor: Actor, project_id: int) -> RiskProject:
    require(actor, "prevention.read")
    project = session.get(RiskProject, project_id)
    if project is None:
        raise NotFound("评估项目不存在", code="risk.not_found")
    return project


def related_records(session: Session, *, actor: Actor, project_id: int, today: date) -> dict[str, Any]:
    """The related petitions the actor may see (numbers, dates, township, channel) and a GeoJSON of their points."""
    project = get_project(session, actor=actor, project_id=project_id)
    lo, hi = _window(project, today)
    q = scope_petitions(_related_query(project, lo, hi), actor).order_by(Petition.received_at)
    petitions = list(session.execute(q).scalars())
    units = list(session.execute(select(OrgUnit)).scalars())
    names = {u.code: u.name for u in units}
    centres = {u.code: (u.lng, u.lat) for u in units if u.lng is not None and u.lat is not None}
    features = []
    for p in petitions:
        # The petition's own point, else its village's or township's centre (a map of places, not of people).
        point = (
            (p.lng, p.lat) if p.lng is not None and p.lat is not None else centres.get(p.division_code or "")
        )
        point = point or centres.get(p.township_code or "")
        if point is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": list(point)},
                "properties": {
                    "number": p.number,
                    "received_on": local_date(p.received_at).isoformat(),
                    "channel": p.channel,
                },
            }
        )
    counts = Counter(p.township_code for p in petitions)
    return {
        "project": project_view(project),
        "monitoring": monitor(session, project, today),
        "items": [
            {
                "petition_id": p.id,
                "number": p.number,
                "received_on": local_date(p.received_at),
                "township_code": p.township_code,
                "township": names.get(p.township_code or ""),
                "channel": p.channel,
                "title": p.title,
            }
            for p in petitions
        ],
        "by_township": [
            {"township_code": code, "township": names.get(code or "", "未定位"), "count": n}
            for code, n in counts.most_common()
        ],
        "geojson": {"type": "FeatureCollection", "features": features},
    }
