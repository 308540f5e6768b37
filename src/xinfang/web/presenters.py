"""Mapping ORM objects to the API's read schemas (personal data masked) — shared by the API and the pages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.models import Petition
from xinfang.cases.schemas import EventRead, PetitionerRead, PetitionRead, PetitionSummary
from xinfang.org.models import OrgUnit


def division_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(codes)))
    return {code: name for code, name in rows}


def petition_read(session: Session, petition: Petition, *, with_events: bool = True) -> PetitionRead:
    names = division_names(session, {c for c in (petition.division_code, petition.township_code) if c})
    dept = petition.department
    return PetitionRead(
        id=petition.id,
        number=petition.number or "",
        channel=petition.channel,  # type: ignore[arg-type]
        status=petition.status,
        title=petition.title,
        body=petition.body,
        received_at=petition.received_at,
        registered_at=petition.registered_at,
        division_code=petition.division_code,
        division_name=_place_name(petition, names),
        address=petition.address,
        lng=petition.lng,
        lat=petition.lat,
        headcount=petition.headcount,
        category=petition.category,
        department=dept.code if dept else None,
        department_name=dept.name if dept else None,
        source=petition.source,
        external_id=petition.external_id,
        upper_due_on=petition.upper_due_on,
        is_demo=petition.is_demo,
        petitioners=[
            PetitionerRead(
                id=p.id,
                name=p.name,
                id_number=p.id_number_masked,
                phone=p.phone_masked,
                address=p.address,
                is_representative=p.is_representative,
            )
            for p in petition.petitioners
        ],
        analysis=petition.analysis,
        events=[
            EventRead(
                id=e.id,
                kind=e.kind,
                at=e.at,
                actor=e.actor.display_name if e.actor else None,
                summary=e.summary,
                details=e.details or {},
            )
            for e in petition.events
        ]
        if with_events
        else None,
    )


def _place_name(petition: Petition, names: dict[str, str]) -> str | None:
    parts = []
    if petition.township_code and petition.township_code in names:
        parts.append(names[petition.township_code])
    if (
        petition.division_code
        and petition.division_code != petition.township_code
        and petition.division_code in names
    ):
        parts.append(names[petition.division_code])
    return "".join(parts) or None


def petition_summary(petition: Petition) -> PetitionSummary:
    return PetitionSummary(
        id=petition.id,
        number=petition.number or "",
        channel=petition.channel,  # type: ignore[arg-type]
        status=petition.status,
        title=petition.title,
        received_at=petition.received_at,
        division_code=petition.division_code,
        category=petition.category,
        department=petition.department.code if petition.department else None,
        is_demo=petition.is_demo,
    )
