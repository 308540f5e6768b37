"""The registration desk's API: analyse a draft as the clerk types (nothing saved), register with the clerk's choice."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from xinfang.cases.schemas import PetitionCreated, PetitionIn
from xinfang.clock import local_date
from xinfang.desk import service as desk
from xinfang.web.deps import ActorDep, RuntimeDep, SessionDep
from xinfang.web.presenters import petition_read

router = APIRouter(prefix="/api", tags=["desk"])


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field("", max_length=200)
    body: str = Field(..., min_length=1, max_length=20_000)
    division_code: str | None = Field(None, pattern=r"^\d{6}(\d{3}(\d{3})?)?$")
    petitioner_name: str | None = Field(None, max_length=100)
    id_number: str | None = Field(None, max_length=32)
    phone: str | None = Field(None, max_length=32)


class DeskRegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    petition: PetitionIn
    decision: Literal["dispatch", "accept", "review"] = Field(
        "review",
        description="dispatch: register and forward (the bureau's clerks); accept: register and accept for the "
        "user's own unit (a department's or township's handler); review: register only (the bureau's dispatch "
        "queue, or the unit's own 待受理 box). A decision the user does not have is refused with 403.",
    )
    department: str | None = Field(None, max_length=32, description="unit code to forward to (dispatch)")
    note: str | None = Field(None, max_length=500)


@router.post("/analysis")
def analyse(data: DraftIn, session: SessionDep, runtime: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    """The dispatch analysis of a draft (category, top-3 departments with reasons, place, legal channel, risks),
    fields the form can pre-fill, and earlier petitions it may repeat. Nothing is saved or logged; ID and phone
    numbers found in the text come back only to the clerk who typed them."""
    result = desk.analyse_draft(
        session,
        actor=actor,
        keyring=runtime.keyring,
        analyser=runtime.intake_analyser(session),
        title=data.title,
        body=data.body,
        today=local_date(runtime.clock.now()),
        division_code=data.division_code,
        petitioner_name=data.petitioner_name,
        id_number=data.id_number,
        phone=data.phone,
    )
    session.rollback()
    return result


@router.post("/desk/register", status_code=201, response_model=PetitionCreated)
def register(
    data: DeskRegisterIn,
    response: Response,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: ActorDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> PetitionCreated:
    """Register at the desk and, in the same transaction, forward to the chosen unit (`dispatch`), accept it for
    the user's own unit (`accept`) or leave it pending (`review`). No automatic dispatch: the user decides."""
    now = runtime.clock.now()
    petition, created = desk.register_at_desk(
        session,
        actor=actor,
        data=data.petition,
        decision=data.decision,
        department=data.department,
        note=data.note,
        now=now,
        ctx=runtime.intake_context(session),
        dedup_key=("idem:" + idempotency_key) if idempotency_key else None,
    )
    query_code = getattr(petition, "new_query_code", None)
    session.commit()
    if not created:
        response.status_code = 200
    view = petition_read(session, petition, today=local_date(now))
    return PetitionCreated(**view.model_dump(), query_code=query_code)
