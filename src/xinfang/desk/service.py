"""The registration desk: what the engine makes of a draft (nothing saved), and registering it the clerk's way.

`analyse_draft` answers while the clerk types: the dispatch analysis, the fields it can fill in (place, the
petitioner's name, ID and phone found in the text — returned to the clerk who typed them, never stored or logged),
and earlier petitions the draft may repeat (only those the clerk may see). `register_at_desk` registers the
petition without automatic dispatch and then applies the user's decision, in the caller's transaction. Which
decisions a user has (`desk_decisions`) follows the procedure table, so the desk never offers a step the service
refuses: the bureau's 登记员 forwards at once or leaves the petition pending review; a department's or township's
办理员 holds what it registers and accepts it at once or keeps it in its own 待受理 box; anyone else who may
register (the administrator) registers for the bureau's clerks to dispatch.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from xinfang.cases import procedure
from xinfang.cases.models import Petition, Petitioner
from xinfang.cases.schemas import PetitionIn
from xinfang.cases.service import Analyser, IntakeContext, holds_what_it_registers, register_petition
from xinfang.cases.workflow import TABLE, Action
from xinfang.dispatch import repeats
from xinfang.errors import InvalidInput, PermissionDenied
from xinfang.security.actors import Actor
from xinfang.security.crypto import KeyRing
from xinfang.security.permissions import may_see_petition, require
from xinfang.text.entities import find_id_numbers, find_phones
from xinfang.text.ids import normalise_id_number, normalise_phone

MAX_REPEATS_SHOWN = 8
Decision = Literal["dispatch", "accept", "review"]
# Words for the refusal of a decision the user does not have (the desk shows only the ones they have).
DECISION_WORDS: dict[str, str] = {"dispatch": "登记并转送", "accept": "登记并受理", "review": "登记"}


def desk_decisions(actor: Actor) -> tuple[Decision, ...]:
    """What this user may do with a petition registered at the desk, in the order the desk shows it.

    `dispatch` (register and 转送) where the procedure lets the role forward and the petition stays with the
    bureau; `accept` (register and 受理, with the 受理告知书) where the user's own unit holds the petition and the
    role may accept; `review` (register only) for everyone who may register: for the bureau the petition waits
    in the dispatch queue (待人工分派), for a unit in its own 待受理 box until it accepts, tells the petitioner
    where to go, refuses or diverts (each within the 15 days of the 条例).
    """
    held = holds_what_it_registers(actor)
    out: list[Decision] = []
    if not held and actor.role in TABLE[Action.FORWARD].roles:
        out.append("dispatch")
    if held and actor.role in TABLE[Action.ACCEPT].roles:
        out.append("accept")
    out.append("review")
    return tuple(out)


def analyse_draft(
    session: Session,
    *,
    actor: Actor,
    keyring: KeyRing,
    analyser: Analyser | None,
    title: str,
    body: str,
    today: date,
    division_code: str | None = None,
    petitioner_name: str | None = None,
    id_number: str | None = None,
    phone: str | None = None,
) -> dict[str, Any]:
    require(actor, "petition.create")
    analysis = analyser(title, body, reference_date=today) if analyser is not None else None
    fields = _prefill(title, body, analysis)
    draft = Petition(
        title=title,
        body=body,
        division_code=division_code or fields.get("village_code") or fields.get("township_code"),
    )
    person = Petitioner(name=petitioner_name or fields.get("name") or "")
    for raw, attr in ((id_number or fields.get("id_number"), "id"), (phone or fields.get("phone"), "phone")):
        value = _normalised(raw, attr)
        if value:
            setattr(person, f"{'id_number' if attr == 'id' else 'phone'}_bidx", keyring.blind_index(value))
    draft.petitioners = [person]
    links = repeats.find_candidates(session, petition=draft)
    candidates = []
    for link in links:
        other = session.get(Petition, link.earlier_id)
        if other is None or not may_see_petition(actor, other):
            continue
        candidates.append(
            {
                "petition_id": other.id,
                "number": other.number,
                "title": other.title,
                "status": other.status,
                "received_at": other.received_at,
                "kind": link.kind,
                "similarity": link.similarity,
                "reasons": link.reasons,
            }
        )
        if len(candidates) >= MAX_REPEATS_SHOWN:
            break
    return {"analysis": analysis, "fields": fields, "repeats": candidates}


def _normalised(raw: str | None, kind: str) -> str | None:
    if not raw:
        return None
    try:
        return normalise_id_number(raw) if kind == "id" else normalise_phone(raw)
    except (InvalidInput, ValueError):
        return None


def _prefill(title: str, body: str, analysis: dict[str, Any] | None) -> dict[str, Any]:
    """Editable suggestions for the form: place codes, the petitioner's name, ID number, phone, headcount."""
    text = f"{title}\n{body}"
    out: dict[str, Any] = {}
    ids = find_id_numbers(text)
    if ids and ids[0].raw:
        out["id_number"] = ids[0].raw
    phones = find_phones(text)
    if phones and phones[0].raw:
        out["phone"] = phones[0].raw
    if analysis:
        loc = analysis.get("location") or {}
        for key in ("township_code", "township_name", "village_code", "village_name"):
            if loc.get(key):
                out[key] = loc[key]
        for e in analysis.get("entities") or []:
            value = e.get("value") or {}
            if e.get("type") == "person" and value.get("role") == "petitioner" and "name" not in out:
                out["name"] = e.get("text")
            if e.get("type") == "headcount" and "headcount" not in out and value.get("count"):
                out["headcount"] = value["count"]
        if analysis.get("category"):
            out["category"] = analysis["category"].get("label")
    return out


def register_at_desk(
    session: Session,
    *,
    actor: Actor,
    data: PetitionIn,
    decision: Decision,
    department: str | None,
    note: str | None,
    now: datetime,
    ctx: IntakeContext,
    dedup_key: str | None = None,
) -> tuple[Petition, bool]:
    """Register (no automatic dispatch), then forward to `department`, accept it for the user's own unit, or
    leave it pending (see `desk_decisions`); a decision the user does not have is refused before anything is saved."""
    require(actor, "petition.create")
    if decision not in desk_decisions(actor):
        raise PermissionDenied(
            f"当前用户不能「{DECISION_WORDS.get(decision, decision)}」",
            code="desk.decision_not_permitted",
            decision=decision,
        )
    if decision == "dispatch" and not department:
        raise InvalidInput("请选择转送单位", code="desk.department_required", field="department")
    petition, created = register_petition(
        session,
        actor=actor,
        data=data,
        now=now,
        ctx=dataclasses.replace(ctx, auto_dispatch=False),
        default_source="desk",
        dedup_key=dedup_key,
    )
    if created and decision != "review" and ctx.procedure is not None:
        query_code = getattr(petition, "new_query_code", None)
        action, payload = (
            ("forward", {"department": department, "note": note or "登记台转送"})
            if decision == "dispatch"
            else ("accept", {"note": note} if note else {})
        )
        petition = procedure.take_action(
            session,
            actor=actor,
            petition_id=petition.id,
            action=action,
            payload=payload,
            now=now,
            ctx=ctx.procedure,
        )
        petition.new_query_code = query_code  # type: ignore[attr-defined]
    return petition, created
