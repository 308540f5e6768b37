"""Petition use cases: register, read, list, unmask. One function per use case; the caller commits.

Order inside every write: permit -> validate -> mutate -> event + audit, all in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from xinfang.cases.deadlines import Rule  # noqa: F401  (re-exported for callers building contexts)
from xinfang.cases.enums import Role, Status
from xinfang.cases.events import add_event
from xinfang.cases.models import Event, Petition, Petitioner
from xinfang.cases.procedure import ProcedureContext, act_on, open_clock
from xinfang.cases.schemas import PetitionerIn, PetitionIn
from xinfang.cases.workflow import REGISTRATION_OPENS
from xinfang.clock import ensure_aware, local_date
from xinfang.errors import InvalidInput, NotFound
from xinfang.org.models import OrgUnit
from xinfang.org.service import find_unit
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.crypto import KeyRing
from xinfang.security.masking import mask_id_number, mask_phone
from xinfang.security.permissions import require, require_petition_visible, scope_petitions, sees_everything
from xinfang.security.redaction import redact


class Analyser(Protocol):
    """What intake needs from the dispatch engine: the analysis of one text as a JSON-ready dict."""

    def __call__(self, title: str, body: str, *, reference_date: Any = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class IntakeContext:
    """What registration needs besides the petition: keys, the analyser (optional), the dispatch policy and the
    procedure context (calendar, documents) that opens the first statutory clock; without it no clock is kept."""

    keyring: KeyRing
    analyser: Analyser | None = None
    auto_dispatch: bool = True
    procedure: ProcedureContext | None = None
    on_registered: Callable[[Session, Petition, datetime], None] | None = None


# The dispatch engine forwards as the bureau would; its steps are recorded under this name.
DISPATCHER = Actor(user_id=None, username="智能分派", role=Role.REGISTRAR)
QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O/1/I: read aloud over the phone


def new_query_code() -> str:
    """10 characters from 32 symbols: 50 bits, so the stored SHA-256 cannot be brute-forced offline."""
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(10))


def query_code_hash(number: str, code: str) -> str:
    return hashlib.sha256(f"{number}:{code.strip().upper()}".encode()).hexdigest()


def dedup_key_for(data: PetitionIn, keyring: KeyRing, *, by_content: bool) -> str:
    """The feed's own id where it has one; for files and feeds without ids (`by_content`), a hash of what makes a
    row the same row; otherwise a fresh key: two people may well write the same words on different days, and an
    interactive client makes its retries safe with an Idempotency-Key instead."""
    if data.external_id:
        return "ext:" + data.external_id
    if not by_content:
        return "new:" + secrets.token_hex(16)
    people = sorted(
        (p.name, keyring.blind_index(p.id_number) if p.id_number else "") for p in data.petitioners
    )
    received = ensure_aware(data.received_at).isoformat() if data.received_at else ""
    material = json.dumps([data.channel.value, data.title, data.body, received, people], ensure_ascii=False)
    return "sha:" + hashlib.sha256(material.encode("utf-8")).hexdigest()


def _petitioner_row(p: PetitionerIn, keyring: KeyRing) -> Petitioner:
    row = Petitioner(name=p.name, address=p.address, is_representative=p.is_representative)
    if p.id_number:
        row.id_number_enc = keyring.encrypt(p.id_number)
        row.id_number_bidx = keyring.blind_index(p.id_number)
        row.id_number_masked = mask_id_number(p.id_number)
    if p.phone:
        row.phone_enc = keyring.encrypt(p.phone)
        row.phone_bidx = keyring.blind_index(p.phone)
        row.phone_masked = mask_phone(p.phone)
    return row


def find_existing(session: Session, *, source: str, dedup_key: str) -> Petition | None:
    return session.execute(
        select(Petition).where(Petition.source == source, Petition.dedup_key == dedup_key)
    ).scalar_one_or_none()


def register_petition(
    session: Session,
    *,
    actor: Actor,
    data: PetitionIn,
    now: datetime,
    ctx: IntakeContext,
    default_source: str = "desk",
    is_demo: bool = False,
    dedup_key: str | None = None,
    dedup_by_content: bool = False,
    import_batch_id: int | None = None,
) -> tuple[Petition, bool]:
    """Register a petition on the spot. Returns (petition, created); a repeated submission returns the original."""
    require(actor, "petition.create")
    source = data.source or default_source
    key = dedup_key or dedup_key_for(data, ctx.keyring, by_content=dedup_by_content)
    existing = find_existing(session, source=source, dedup_key=key)
    if existing is not None:
        return existing, False

    received_at = ensure_aware(data.received_at) if data.received_at else now
    if received_at > now:
        raise InvalidInput("收到时间不能晚于当前时间", code="petition.received_in_future")
    loc = data.location
    petition = Petition(
        channel=data.channel.value,
        status=Status.REGISTERED.value,
        title=data.title,
        body=data.body,
        received_at=received_at,
        registered_at=now,
        division_code=loc.division_code if loc else None,
        address=loc.address if loc else None,
        lng=loc.lng if loc else None,
        lat=loc.lat if loc else None,
        headcount=data.headcount,
        category=data.category,
        source=source,
        external_id=data.external_id,
        dedup_key=key,
        upper_due_on=data.upper_due_on,
        is_demo=is_demo,
        created_by_id=actor.user_id,
        import_batch_id=import_batch_id,
    )
    petition.petitioners = [_petitioner_row(p, ctx.keyring) for p in data.petitioners]
    # A new petition has no events or clocks: saying so spares the procedure two queries for them.
    petition.events, petition.clocks = [], []
    if data.accused_unit:
        petition.accused_unit = _unit(session, data.accused_unit)
        petition.matter_kind = "检举控告"
    # Analysis reads only the text, so it runs before the insert: one row written whole, and the plain text the
    # database ever receives is already without ID and phone numbers.
    analysis = _analyse(petition, ctx)
    if analysis is not None:
        _apply_analysis(session, petition=petition, analysis=analysis, now=now, ctx=ctx)
    _set_township(petition)
    _redact_personal_numbers(petition, ctx.keyring)
    try:
        with session.begin_nested():
            session.add(petition)
            session.flush()
    except IntegrityError:
        # The same submission registered meanwhile in another transaction (a client retrying on another app
        # instance while its first request was still in flight): the unique (source, dedup_key) let that insert
        # win, so answer with its petition, as for any repeated submission.
        existing = find_existing(session, source=source, dedup_key=key)
        if existing is None:
            raise
        return existing, False
    petition.number = f"XF{local_date(received_at):%Y%m%d}{petition.id:07d}"
    query_code = new_query_code()
    petition.query_code_hash = query_code_hash(petition.number, query_code)
    add_event(
        session,
        petition=petition,
        kind="registered",
        actor=actor,
        at=now,
        summary=f"登记({data.channel.value})",
        details={"source": source},
    )
    if holds_what_it_registers(actor):
        # A body that receives a petition directly holds it: it must tell the petitioner within 15 days.
        petition.department = session.get(OrgUnit, actor.org_unit_id)
    if ctx.procedure is not None:
        for rule in REGISTRATION_OPENS[sees_everything(actor)]:
            open_clock(
                session, petition=petition, rule=rule, start=local_date(received_at), ctx=ctx.procedure
            )
    if ctx.on_registered is not None:
        ctx.on_registered(session, petition, now)
    # As late as possible: appending locks the audit chain until commit, and every writer waits for that lock.
    audit.record(
        session,
        actor=actor,
        action="petition.create",
        at=now,
        object_type="petition",
        object_id=petition.id,
        details={"number": petition.number, "source": source, "petitioners": len(data.petitioners)},
    )
    if analysis is not None:
        _auto_dispatch(session, petition=petition, analysis=analysis, now=now, ctx=ctx)
    petition.new_query_code = query_code  # type: ignore[attr-defined]  # shown once, to give to the petitioner
    return petition, True


def holds_what_it_registers(actor: Actor) -> bool:
    """Does a petition this actor registers stay with the actor's own unit? Yes for a department or township
    (条例: a body that receives a petition directly decides within 15 days whether to accept it, or tells the
    petitioner where to go); no for the county bureau, whose registrations wait to be forwarded or assigned."""
    return not sees_everything(actor) and actor.org_unit_id is not None


def _redact_personal_numbers(petition: Petition, keyring: KeyRing) -> None:
    """Analysis has seen the full text; what is stored in plain text must not hold ID or phone numbers."""
    title, body = redact(petition.title), redact(petition.body)
    if title.changed or body.changed:
        petition.original_text_enc = keyring.encrypt(
            json.dumps([petition.title, petition.body], ensure_ascii=False)
        )
        petition.title, petition.body = title.text, body.text


def _unit(session: Session, code: str) -> OrgUnit:
    unit = find_unit(session, code)
    if unit is None:
        raise InvalidInput(f"未知单位代码 {code}", code="org.unknown_unit", unit=code)
    return unit


def _set_township(petition: Petition) -> None:
    code = petition.division_code
    petition.township_code = code[:9] if code and len(code) >= 9 else None


def _analyse(petition: Petition, ctx: IntakeContext) -> dict[str, Any] | None:
    if ctx.analyser is None:
        return None
    return ctx.analyser(petition.title, petition.body, reference_date=local_date(petition.received_at))


def _apply_analysis(
    session: Session, *, petition: Petition, analysis: dict[str, Any], now: datetime, ctx: IntakeContext
) -> None:
    """Store the dispatch engine's analysis and fill the gaps it can fill (category, place, kind of matter)."""
    petition.analysis = analysis
    if petition.category is None:
        petition.category = (analysis.get("category") or {}).get("label")
    if petition.division_code is None:
        petition.division_code = _most_specific_division(analysis)
    if petition.matter_kind is None:
        petition.matter_kind = (analysis.get("matter_kind") or {}).get("kind")


def _auto_dispatch(
    session: Session, *, petition: Petition, analysis: dict[str, Any], now: datetime, ctx: IntakeContext
) -> None:
    """Forward at once when the engine is confident (a real `forward` step, with its clocks and event); otherwise
    the petition waits in the review queue with the suggestions."""
    suggestions = analysis.get("departments") or []
    confident = ctx.auto_dispatch and analysis.get("auto_dispatch") and suggestions
    if petition.status != Status.REGISTERED.value:
        return
    if petition.department is not None:
        # Received directly by a department or township (holds_what_it_registers): that body decides whether to
        # accept it, so the bureau's dispatcher neither forwards it elsewhere nor queues it for the bureau. It
        # stays `registered`, in the unit's 待受理 box, where 受理 is one of its steps.
        return
    blocked = petition.matter_kind == "检举控告" or petition.repeats_final_id is not None
    if confident and ctx.procedure is not None and not blocked:
        top = suggestions[0]
        reason = f"智能分派(置信度{top.get('confidence', 0):.0%})"
        act_on(
            session,
            actor=DISPATCHER,
            petition=petition,  # created in this transaction: no other writer can hold it, nothing to lock
            action="forward",
            payload={"department": top["code"], "note": reason},
            now=now,
            ctx=ctx.procedure,
        )
        return
    petition.status = Status.PENDING_REVIEW.value


def _most_specific_division(analysis: dict[str, Any]) -> str | None:
    """The village if the text names one in the county, else the township (属地: where the matter is)."""
    location = analysis.get("location") or {}
    return location.get("village_code") or location.get("township_code")


def get_petition(session: Session, *, actor: Actor, petition_id: int) -> Petition:
    require(actor, "petition.read")
    petition = session.execute(
        select(Petition)
        .where(Petition.id == petition_id)
        .options(selectinload(Petition.petitioners), selectinload(Petition.events).selectinload(Event.actor))
    ).scalar_one_or_none()
    if petition is None:
        raise NotFound("信访件不存在或无权查看", code="petition.not_found")
    require_petition_visible(actor, petition)
    return petition


@dataclass(frozen=True)
class PetitionFilter:
    status: str | None = None
    channel: str | None = None
    category: str | None = None
    department_code: str | None = None
    division_code: str | None = None
    q: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


def list_petitions(
    session: Session, *, actor: Actor, filters: PetitionFilter, page: int = 1, page_size: int = 20
) -> tuple[list[Petition], int]:
    require(actor, "petition.read")
    page = max(page, 1)
    page_size = min(max(page_size, 1), 200)
    q = scope_petitions(select(Petition), actor)
    q = _apply_filters(session, q, filters)
    total = session.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar_one()
    rows = session.execute(
        q.order_by(Petition.received_at.desc(), Petition.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).scalars()
    return list(rows), total


def _apply_filters(session: Session, q: Any, f: PetitionFilter) -> Any:
    if f.status:
        q = q.where(Petition.status == f.status)
    if f.channel:
        q = q.where(Petition.channel == f.channel)
    if f.category:
        q = q.where(Petition.category == f.category)
    if f.department_code:
        q = q.join(OrgUnit, Petition.department_id == OrgUnit.id).where(OrgUnit.code == f.department_code)
    if f.division_code:
        q = q.where(Petition.division_code.startswith(f.division_code, autoescape=True))
    if f.q:
        like = f"%{f.q}%"
        q = q.where(or_(Petition.title.like(like), Petition.number == f.q, Petition.body.like(like)))
    if f.received_from:
        q = q.where(Petition.received_at >= f.received_from)
    if f.received_to:
        q = q.where(Petition.received_at < f.received_to)
    return q


apply_filters = _apply_filters  # public: the inboxes narrow their own queries the same way


def find_by_person(
    session: Session,
    *,
    actor: Actor,
    keyring: KeyRing,
    id_number: str | None = None,
    phone: str | None = None,
) -> list[Petition]:
    """Earlier petitions of the same person, found through the blind index (no decryption, no plaintext search)."""
    require(actor, "petition.read")
    conds = []
    if id_number:
        conds.append(Petitioner.id_number_bidx == keyring.blind_index(id_number))
    if phone:
        conds.append(Petitioner.phone_bidx == keyring.blind_index(phone))
    if not conds:
        return []
    q = scope_petitions(select(Petition).join(Petitioner).where(or_(*conds)).distinct(), actor)
    return list(session.execute(q).scalars())


def unmask_petitioner(
    session: Session, *, actor: Actor, keyring: KeyRing, petitioner_id: int, reason: str, now: datetime
) -> dict[str, str | None]:
    """Reveal one petitioner's ID number and phone to an authorised user, with the reason in the audit log."""
    require(actor, "personal_data.unmask")
    if not reason or len(reason.strip()) < 2:
        raise InvalidInput("查看个人信息须填写理由", code="unmask.reason_required")
    person = session.get(Petitioner, petitioner_id)
    if person is None:
        raise NotFound("当事人不存在", code="petitioner.not_found")
    require_petition_visible(actor, person.petition)
    audit.record(
        session,
        actor=actor,
        action="personal_data.unmask",
        at=now,
        object_type="petitioner",
        object_id=person.id,
        details={"petition_id": person.petition_id, "reason": reason.strip()[:200]},
    )
    decrypt: Callable[[str | None], str | None] = lambda v: keyring.decrypt(v) if v else None  # noqa: E731
    return {"id_number": decrypt(person.id_number_enc), "phone": decrypt(person.phone_enc)}


def record_read(session: Session, *, actor: Actor, petition: Petition, now: datetime) -> None:
    """Reading a petition shows (masked) personal data: every such read is audited."""
    audit.record(
        session,
        actor=actor,
        action="petition.read",
        at=now,
        object_type="petition",
        object_id=petition.id,
    )


def unmask_petition_text(
    session: Session, *, actor: Actor, keyring: KeyRing, petition_id: int, reason: str, now: datetime
) -> dict[str, str]:
    """The title and body as the citizen wrote them (with numbers), for an authorised user, audited."""
    require(actor, "personal_data.unmask")
    if not reason or len(reason.strip()) < 2:
        raise InvalidInput("查看个人信息须填写理由", code="unmask.reason_required")
    petition = get_petition(session, actor=actor, petition_id=petition_id)
    audit.record(
        session,
        actor=actor,
        action="personal_data.unmask_text",
        at=now,
        object_type="petition",
        object_id=petition.id,
        details={"reason": reason.strip()[:200]},
    )
    if petition.original_text_enc is None:
        return {"title": petition.title, "body": petition.body}
    title, body = json.loads(keyring.decrypt(petition.original_text_enc))
    return {"title": title, "body": body}


def set_repeat_of_final(
    session: Session, *, actor: Actor, petition_id: int, final_id: int | None, reason: str, now: datetime
) -> Petition:
    """The clerk's judgement on 三级终结: this petition repeats (final_id) or does not repeat (None) a matter final
    after 复核 with the same facts and reasons. Recorded with its reason; the procedure follows it."""
    require(actor, "petition.create")
    petition = get_petition(session, actor=actor, petition_id=petition_id)
    if final_id is not None:
        final = get_petition(session, actor=actor, petition_id=final_id)
        if final.status != Status.RECHECK_REPLIED.value and not any(
            e.kind == "recheck_reply" for e in final.events
        ):
            raise InvalidInput("所选信访件尚未复核终结", code="petition.not_final", final_id=final_id)
    petition.repeats_final_id = final_id
    add_event(
        session,
        petition=petition,
        kind="repeat_of_final_judged",
        actor=actor,
        at=now,
        summary=("认定为已终结事项的重复信访" if final_id else "认定不属于已终结事项的重复信访")
        + f":{reason}",
        details={"final_id": final_id},
    )
    audit.record(
        session,
        actor=actor,
        action="petition.repeat_of_final",
        at=now,
        object_type="petition",
        object_id=petition.id,
        details={"final_id": final_id},
    )
    return petition
