"""Mapping ORM objects to the API's read schemas (personal data masked) — shared by the API and the pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.deadlines import CLOCK_STATE_LABELS, STATUTORY, ClockState, Rule, clock_state
from xinfang.cases.models import Petition
from xinfang.cases.notices import NOTICE_TITLES
from xinfang.cases.schemas import (
    ClockRead,
    DocumentRead,
    EventRead,
    PetitionerRead,
    PetitionRead,
    PetitionSummary,
)
from xinfang.cases.workflow import Step
from xinfang.org.models import OrgUnit


def division_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(codes)))
    return {code: name for code, name in rows}


def clock_reads(petition: Petition, today: date, *, include_closed: bool = False) -> list[ClockRead]:
    clocks = [c for c in petition.clocks if include_closed or c.closed_on is None]
    out = []
    for c in clocks:
        rule = Rule(c.rule)
        state = clock_state(c.start_on, c.due_on, c.closed_on or today)
        if c.closed_on is not None:
            state = ClockState.OVERDUE if c.closed_on > c.due_on else ClockState.ON_TIME
        out.append(
            ClockRead(
                rule=rule.value,
                name=STATUTORY[rule].label,
                unit=c.unit.name if c.unit else None,
                start_on=c.start_on,
                due_on=c.due_on,
                state=state.value,
                state_label=CLOCK_STATE_LABELS[state],
                closed_on=c.closed_on,
                is_provisional=c.is_provisional,
            )
        )
    return out


def petition_read(
    session: Session, petition: Petition, *, today: date, with_events: bool = True
) -> PetitionRead:
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
        deadlines=clock_reads(petition, today),
        documents=[
            DocumentRead(
                id=d.id, kind=d.kind, title=d.title, created_at=d.created_at, url=f"/api/documents/{d.id}"
            )
            for d in petition.documents
        ],
        matter_kind=petition.matter_kind,
        evaluation=petition.evaluation,
        outcome=petition.outcome,
        leader=petition.leader.display_name if petition.leader else None,
        version=petition.version,
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


def action_spec(step: Step) -> dict[str, Any]:
    """One available step as the UI needs it: name, Chinese label, the fields of its form, the notice it issues."""
    return {
        "action": step.action.value,
        "label": step.label,
        "notice": NOTICE_TITLES[step.notice] if step.notice else None,
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "type": f.type,
                "required": f.required,
                "choices": list(f.choices),
                "minimum": f.minimum,
                "maximum": f.maximum,
            }
            for f in step.fields
        ],
    }
