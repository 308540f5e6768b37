"""访调诉 referrals: one-click hand-over of a petition to people's mediation or the court, and what comes back.

**Referring** (`refer`), in the caller's transaction: check permission, visibility and the parties' consent; record the
referral with a snapshot bundle (no plaintext personal data), its first status, an event on the case (the petitioner
sees it on the public query page), a notification to the unit concerned and an audit entry; and write the outbox row
(`store.jobs`, kind `referral.deliver`) that the worker delivers. Where the deployment has no API for the platform
the referral is `manual`: no outbox row; staff export the ZIP and record statuses by hand.

**What the referral does to the petition** (the procedure of `cases.workflow` decides what is lawful):

- *Court* (诉前调解 or 立案): the matter goes into litigation, a legal-channel diversion. The same transaction takes
  the procedure step `divert` (legal_channel 诉讼) which closes the petition clocks and issues the
  导入法定途径告知书; a petition whose status does not allow diversion cannot be referred to the court. When the court
  reports 调解成功, 已立案 or 已司法确认 the diverted petition is concluded (`conclude`). 调解失败 keeps it diverted
  and waiting for the court to file (已立案); 退回 notifies the bureau for a human decision (the diversion stands).
- *People's mediation*: mediation is voluntary and parallel, so the petition keeps its status and its clocks
  **pause**: every open clock that binds a body is closed with `closed_by_action = "mediation_pause"` and recorded
  on the referral (`paused_on`, `paused_status`, `paused_clock_ids`). 调解成功 (or 已司法确认) records a
  `mediation_succeeded` event and takes the step `settle` (调解结案 → concluded, outcome 调解成功). 调解失败 or 退回
  **resumes** the clocks: each paused clock is reopened with the same start and its due date moved later by the
  calendar days the mediation took (then onto a working day), `excluded_days` recording those days; the handling
  unit is told to continue. If the petition changed status meanwhile (someone acted on it), the clocks are not
  reopened and the event says so. Known limit: a later `extend` recomputes the handling period from its start and
  does not add the paused days again.

Automatic consequences of platform news are taken by a system actor `platform:<key>` in the role of the bureau's
registrar (audited under that name); if the procedure refuses the step (the petition moved on), the referral status
is still recorded and the unit is notified to decide by hand.

**Statuses** arrive by signed callback (`receive_callback`), by polling (`poll`) or by hand (`record_status`), all
through `apply_status`: news seen before (same `event_id`, or the status it already has) changes nothing; news older
than the current status (a late 调解中 after 调解成功) is refused as stale.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from xinfang.cases import procedure, workflow
from xinfang.cases.attachments import read_stored
from xinfang.cases.enums import Role
from xinfang.cases.enums import Status as PetitionStatus
from xinfang.cases.events import add_event
from xinfang.cases.models import Attachment, Clock, Notification, Petition
from xinfang.cases.procedure import ProcedureContext, lock_petition
from xinfang.clock import ensure_aware, local_date
from xinfang.config import ReferralPlatformConfig
from xinfang.errors import (
    Conflict,
    IntegrationError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    XinfangError,
)
from xinfang.org.models import OrgUnit
from xinfang.referrals import signing
from xinfang.referrals.adapters import AdapterFactory
from xinfang.referrals.enums import (
    FINAL,
    KINDS_BY_PLATFORM,
    NEXT,
    OPEN,
    OUTCOME_BY_STATUS,
    OUTCOME_LABELS,
    PLATFORM_LABELS,
    REMOTE_BY_LABEL,
    REMOTE_BY_PLATFORM,
    STATUS_LABELS,
    Kind,
    Outcome,
    Platform,
    Status,
)
from xinfang.referrals.models import CallbackNonce, Referral, ReferralStatusChange
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.crypto import KeyRing
from xinfang.security.permissions import can, require, require_petition_visible, scope_petitions

log = logging.getLogger("xinfang.referrals")

DELIVER_JOB = "referral.deliver"
CONSENT_METHODS = ("书面", "口头", "线上")
PAUSE_ACTION = "mediation_pause"
MAX_NOTE = 500


def platform_actor(platform: str) -> Actor:
    """The platform acting through us: system (no user), with the bureau registrar's procedural role."""
    return Actor(user_id=None, username=f"platform:{platform}", role=Role.REGISTRAR)


# ---- referring -------------------------------------------------------------------------------------------------


def refer(
    session: Session,
    *,
    actor: Actor,
    petition_id: int,
    platform: str,
    kind: str,
    consent: Mapping[str, Any],
    evidence_ids: list[int],
    now: datetime,
    ctx: ProcedureContext,
    platforms: Mapping[str, ReferralPlatformConfig],
    max_attempts: int = 8,
    demand: str | None = None,
) -> Referral:
    """`demand`: the demand summary as the referring officer worded it (default: the analysed core demand, or the
    title)."""
    require(actor, "referral.create")
    petition = lock_petition(session, petition_id)
    require_petition_visible(actor, petition)
    plat, knd = _platform(platform), _kind(platform, kind)
    if session.execute(
        select(Referral.id).where(Referral.petition_id == petition.id, Referral.status.in_(list(OPEN)))
    ).first():
        raise Conflict("该信访件已有进行中的移交", code="referral.already_open")
    if plat is Platform.MEDIATION and PetitionStatus(petition.status) not in _settle_statuses():
        raise InvalidTransition(
            "该信访件当前状态不能转人民调解", code="referral.not_referable", status=petition.status
        )
    consent_record = _consent(petition, consent, actor, now)
    if demand is not None and len(demand.strip()) > MAX_NOTE:
        raise InvalidInput("诉求摘要过长(不超过500字)", code="referral.demand")
    evidence = _evidence(session, petition, evidence_ids)
    config = platforms.get(plat.value)
    delivery = "outbox" if config is not None and config.endpoint else "manual"
    referral = Referral(
        petition=petition,
        platform=plat.value,
        kind=knd.value,
        status=(Status.PENDING if delivery == "outbox" else Status.MANUAL).value,
        delivery=delivery,
        idempotency_key=f"xf-{uuid.uuid4().hex}",
        consent=consent_record,
        bundle={},
        outcome=Outcome.OPEN.value,
        unit_id=actor.org_unit_id,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        paused_clock_ids=[],
    )
    session.add(referral)
    session.flush()
    referral.bundle = _snapshot(session, referral, petition, evidence, actor, now, demand=demand)
    label = PLATFORM_LABELS[plat]
    if plat is Platform.COURT:
        procedure.take_action(
            session,
            actor=actor,
            petition_id=petition.id,
            action=workflow.Action.DIVERT.value,
            payload={
                "legal_channel": "诉讼",
                "competent_body": (config.name if config and config.name else "人民法院"),
                "reason": f"经当事人同意,转{label}{knd.value}",
            },
            now=now,
            ctx=ctx,
        )
    else:
        _pause_clocks(referral, petition, local_date(now))
    _history(session, referral, None, Status(referral.status), "system", now, actor=actor)
    add_event(
        session,
        petition=petition,
        kind="referral",
        actor=actor,
        at=now,
        summary=f"转{label}:{knd.value}",
        details={"referral_id": referral.id, "platform": plat.value, "kind": knd.value, "delivery": delivery},
    )
    _notify(session, petition, referral, now, f"{petition.number}已转{label}({knd.value})")
    audit.record(
        session,
        actor=actor,
        action="referral.create",
        at=now,
        object_type="referral",
        object_id=referral.id,
        details={"petition_id": petition.id, "platform": plat.value, "kind": knd.value, "delivery": delivery},
    )
    if delivery == "outbox":
        from xinfang.store.jobs import enqueue

        enqueue(
            session,
            kind=DELIVER_JOB,
            payload={"referral_id": referral.id},
            now=now,
            max_attempts=max_attempts,
            dedup_key=delivery_key(referral.id),
        )
    session.flush()
    return referral


def delivery_key(referral_id: int) -> str:
    """The outbox row's unique key: one delivery job per referral (found again by the case page)."""
    return f"{DELIVER_JOB}:{referral_id}"


def default_demand(petition: Petition) -> str:
    """The demand summary a referral carries unless the officer rewords it: the analysed core demand, or the title."""
    return ((petition.analysis or {}).get("demand") or {}).get("text") or petition.title


def referral_targets(petition: Petition, actor: Actor, today: Any) -> list[dict[str, str]]:
    """What `refer` would accept from this actor now, as (platform, kind) choices for a form: the same rules
    (permission, petition status, the divert step for the court), so the UI offers nothing the service refuses
    on those grounds. Consent and an open referral are checked when the form is posted."""
    if not can(actor, "referral.create"):
        return []
    out = []
    if PetitionStatus(petition.status) in _settle_statuses():
        out.append(Platform.MEDIATION)
    divert = workflow.Action.DIVERT
    if any(step.action is divert for step in procedure.available_actions(petition, actor, today)):
        out.append(Platform.COURT)
    return [
        {"platform": plat.value, "kind": kind.value, "label": f"{PLATFORM_LABELS[plat]} · {kind.value}"}
        for plat in out
        for kind in KINDS_BY_PLATFORM[plat]
    ]


def _settle_statuses() -> frozenset[PetitionStatus]:
    return workflow.TABLE[workflow.Action.SETTLE].from_statuses


def _platform(value: str) -> Platform:
    try:
        return Platform(value)
    except ValueError as exc:
        raise InvalidInput(f"未知的平台:{value}", code="referral.unknown_platform") from exc


def _kind(platform: str, value: str) -> Kind:
    plat = _platform(platform)
    try:
        kind = Kind(value)
    except ValueError as exc:
        raise InvalidInput(f"未知的移交类型:{value}", code="referral.unknown_kind") from exc
    if kind not in KINDS_BY_PLATFORM[plat]:
        raise InvalidInput(
            f"{PLATFORM_LABELS[plat]}不受理「{kind.value}」", code="referral.kind_not_for_platform"
        )
    return kind


def _consent(petition: Petition, consent: Mapping[str, Any], actor: Actor, now: datetime) -> dict[str, Any]:
    """The parties' consent (who, when, how): every petitioner, or every representative of a group, must agree."""
    method = consent.get("method")
    if method not in CONSENT_METHODS:
        raise InvalidInput(
            f"请记录当事人同意的方式({'/'.join(CONSENT_METHODS)})", code="referral.consent_method"
        )
    ids = consent.get("petitioner_ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise InvalidInput("请选择表示同意的信访人", code="referral.consent_parties")
    known = {p.id for p in petition.petitioners}
    reps = {p.id for p in petition.petitioners if p.is_representative}
    needed = reps or known
    if not set(ids) <= known or not needed <= set(ids):
        raise InvalidInput("须经全部信访人(或全部代表)同意方可移交", code="referral.consent_parties")
    try:
        given_at = ensure_aware(datetime.fromisoformat(str(consent.get("given_at"))))
    except ValueError as exc:
        raise InvalidInput("同意时间格式有误", code="referral.consent_time") from exc
    if given_at > now + timedelta(minutes=5):
        raise InvalidInput("同意时间不能晚于现在", code="referral.consent_time")
    note = consent.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise InvalidInput("备注过长", code="referral.consent_note")
    return {
        "petitioner_ids": sorted(set(ids)),
        "method": method,
        "given_at": given_at.isoformat(),
        "note": note,
        "recorded_by": actor.username,
        "recorded_by_id": actor.user_id,
        "recorded_at": now.isoformat(),
    }


def _evidence(session: Session, petition: Petition, ids: list[int]) -> list[Attachment]:
    if not all(isinstance(i, int) for i in ids):
        raise InvalidInput("证据须为附件编号", code="referral.evidence")
    found = {a.id: a for a in petition.attachments}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput("证据附件不属于该信访件", code="referral.evidence", attachment_id=missing[0])
    return [found[i] for i in dict.fromkeys(ids)]


def _snapshot(
    session: Session,
    referral: Referral,
    petition: Petition,
    evidence: list[Attachment],
    actor: Actor,
    now: datetime,
    *,
    demand: str | None = None,
) -> dict[str, Any]:
    unit = session.get(OrgUnit, actor.org_unit_id) if actor.org_unit_id else None
    consented = set(referral.consent["petitioner_ids"])
    return {
        "reference": referral.idempotency_key,
        "platform": referral.platform,
        "kind": referral.kind,
        "referred_at": now.isoformat(),
        "referring_unit": {"code": unit.code, "name": unit.name} if unit else None,
        "matter": {
            "number": petition.number,
            "title": petition.title,
            "facts": petition.body,
            "demand": (demand or "").strip() or default_demand(petition),
            "category": petition.category,
            "received_on": local_date(petition.received_at).isoformat(),
            "township_code": petition.township_code,
            "address": petition.address,
        },
        "parties": [
            {
                "petitioner_id": p.id,
                "role": "申请人",
                "name": p.name,
                "address": p.address,
                "is_representative": p.is_representative,
                "id_number_masked": p.id_number_masked,
                "phone_masked": p.phone_masked,
                "consented": p.id in consented,
            }
            for p in petition.petitioners
        ],
        "consent": {k: referral.consent[k] for k in ("method", "given_at", "petitioner_ids")},
        "evidence": [
            {
                "attachment_id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in evidence
        ],
    }


def wire_bundle(
    session: Session, referral: Referral, *, keyring: KeyRing, attachments_dir: Path, inline: bool = True
) -> dict[str, Any]:
    """The bundle as sent: the snapshot plus the parties' contacts decrypted (consented hand-over) and, when
    `inline`, the evidence bytes in base64. Built at send time, never stored."""
    bundle: dict[str, Any] = json.loads(json.dumps(referral.bundle))
    people = {p.id: p for p in referral.petition.petitioners}
    for party in bundle["parties"]:
        person = people.get(party["petitioner_id"])
        party.pop("id_number_masked", None)
        party.pop("phone_masked", None)
        party["id_number"] = (
            keyring.decrypt(person.id_number_enc) if person and person.id_number_enc else None
        )
        party["phone"] = keyring.decrypt(person.phone_enc) if person and person.phone_enc else None
    if inline:
        for item in bundle["evidence"]:
            item["content_base64"] = base64.b64encode(read_stored(attachments_dir, item["sha256"])).decode()
    return bundle


# ---- the petition side -------------------------------------------------------------------------------------------


def _pause_clocks(referral: Referral, petition: Petition, today: Any) -> None:
    paused = [c for c in procedure.open_clocks(petition) if not c.binds_petitioner]
    for clock in paused:
        clock.closed_on, clock.closed_by_action = today, PAUSE_ACTION
    referral.paused_on, referral.paused_status = today, petition.status
    referral.paused_clock_ids = [c.id for c in paused]


def _resume_clocks(session: Session, referral: Referral, petition: Petition, now: datetime, ctx: Any) -> str:
    today = local_date(now)
    if referral.paused_on is None or referral.resumed_on is not None:
        return ""
    referral.resumed_on = today
    if petition.status != referral.paused_status:
        return ",信访件状态已变化,期限未恢复"
    days = (today - referral.paused_on).days
    for clock_id in referral.paused_clock_ids or []:
        old = session.get(Clock, clock_id)
        if old is None:
            continue
        session.add(
            Clock(
                petition=petition,
                rule=old.rule,
                unit_id=old.unit_id,
                start_on=old.start_on,
                due_on=ctx.calendar.workday_on_or_after(old.due_on + timedelta(days=days)),
                statutory_due_on=ctx.calendar.workday_on_or_after(
                    old.statutory_due_on + timedelta(days=days)
                ),
                is_provisional=old.is_provisional,
                binds_petitioner=old.binds_petitioner,
                extension_days=old.extension_days,
                excluded_days=old.excluded_days + days,
            )
        )
    return f",办理期限顺延{days}日"


def _notify(session: Session, petition: Petition, referral: Referral, now: datetime, message: str) -> None:
    unit_id = petition.department_id or referral.unit_id
    if unit_id is None:
        bureau = session.execute(
            select(OrgUnit.id).where(OrgUnit.code == procedure.BUREAU_CODE)
        ).scalar_one_or_none()
        unit_id = bureau
    if unit_id is None:
        return
    session.add(
        Notification(
            unit_id=unit_id,
            petition_id=petition.id,
            kind="referral",
            message=message[:MAX_NOTE],
            created_at=now,
            dedup_key=f"referral:{referral.id}:{referral.status}:{now.isoformat()}"[:120],
        )
    )


def _history(
    session: Session,
    referral: Referral,
    previous: Status | None,
    status: Status,
    source: str,
    now: datetime,
    *,
    actor: Actor | None = None,
    event_id: str | None = None,
    note: str | None = None,
) -> None:
    session.add(
        ReferralStatusChange(
            referral=referral,
            status=status.value,
            previous=previous.value if previous else None,
            source=source,
            event_id=event_id,
            at=now,
            actor_id=actor.user_id if actor else None,
            note=note[:MAX_NOTE] if note else None,
        )
    )


def _try_step(
    session: Session,
    *,
    petition: Petition,
    referral: Referral,
    action: workflow.Action,
    payload: dict[str, Any],
    now: datetime,
    ctx: ProcedureContext,
) -> str:
    """Take the procedure step the news calls for; if the procedure refuses it, say so instead of failing."""
    try:
        with session.begin_nested():
            procedure.take_action(
                session,
                actor=platform_actor(referral.platform),
                petition_id=petition.id,
                action=action.value,
                payload=payload,
                now=now,
                ctx=ctx,
            )
    except XinfangError as exc:
        log.warning("referral %s: automatic %s refused (%s)", referral.id, action.value, exc.code)
        _notify(
            session, petition, referral, now, f"{petition.number}移交结果需人工处理:未能自动{action.value}"
        )
        return f",未能自动办结({exc.code}),请人工处理"
    return ",信访件已办结"


# ---- status news -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    result: str  # applied | duplicate | stale
    referral_id: int
    status: str


def apply_status(
    session: Session,
    *,
    referral: Referral,
    status: Status,
    source: str,
    now: datetime,
    ctx: ProcedureContext,
    actor: Actor,
    event_id: str | None = None,
    note: str | None = None,
) -> Applied:
    """Record one piece of platform news and its consequences for the petition. Idempotent per `event_id`."""
    if (
        event_id
        and session.execute(
            select(ReferralStatusChange.id).where(
                ReferralStatusChange.referral_id == referral.id, ReferralStatusChange.event_id == event_id
            )
        ).first()
    ):
        return Applied("duplicate", referral.id, referral.status)
    current = Status(referral.status)
    if status is current:
        return Applied("duplicate", referral.id, referral.status)
    if status not in REMOTE_BY_PLATFORM[Platform(referral.platform)]:
        raise InvalidInput(
            f"{PLATFORM_LABELS[Platform(referral.platform)]}不会报告「{STATUS_LABELS[status]}」",
            code="referral.status_not_for_platform",
        )
    if status not in NEXT[current]:
        raise InvalidTransition(
            f"移交状态已是「{STATUS_LABELS[current]}」,不能变为「{STATUS_LABELS[status]}」",
            code="referral.stale_status",
            current=current.value,
            status=status.value,
        )
    referral.status, referral.updated_at = status.value, now
    referral.outcome = OUTCOME_BY_STATUS.get(status, Outcome.OPEN).value
    if note:
        referral.outcome_note = note[:MAX_NOTE]
    if status in FINAL:
        referral.closed_at = now
    _history(session, referral, current, status, source, now, actor=actor, event_id=event_id, note=note)
    session.flush()
    consequence = _consequences(session, referral, status, now=now, ctx=ctx, note=note)
    petition = referral.petition
    add_event(
        session,
        petition=petition,
        kind="referral.status",
        actor=actor,
        at=now,
        summary=f"{PLATFORM_LABELS[Platform(referral.platform)]}{STATUS_LABELS[status]}{consequence}",
        details={"referral_id": referral.id, "status": status.value, "source": source},
    )
    audit.record(
        session,
        actor=actor,
        action="referral.status",
        at=now,
        object_type="referral",
        object_id=referral.id,
        details={"from": current.value, "to": status.value, "source": source},
    )
    session.flush()
    return Applied("applied", referral.id, status.value)


def _consequences(
    session: Session,
    referral: Referral,
    status: Status,
    *,
    now: datetime,
    ctx: ProcedureContext,
    note: str | None,
) -> str:
    petition = lock_petition(session, referral.petition_id)
    concluded = petition.status == PetitionStatus.CONCLUDED.value
    label = PLATFORM_LABELS[Platform(referral.platform)]
    if referral.platform == Platform.MEDIATION.value:
        if status in (Status.MEDIATED, Status.CONFIRMED) and not concluded:
            add_event(
                session,
                petition=petition,
                kind=workflow.MEDIATION_SUCCEEDED_EVENT,
                actor=platform_actor(referral.platform),
                at=now,
                summary="调解成功",
                details={"referral_id": referral.id},
            )
            session.flush()
            return _try_step(
                session,
                petition=petition,
                referral=referral,
                action=workflow.Action.SETTLE,
                payload={"agreement": (note or "经人民调解达成调解协议")[:MAX_NOTE], "mediation_body": label},
                now=now,
                ctx=ctx,
            )
        if status in (Status.MEDIATION_FAILED, Status.RETURNED):
            resumed = _resume_clocks(session, referral, petition, now, ctx)
            _notify(session, petition, referral, now, f"{petition.number}{STATUS_LABELS[status]},请继续办理")
            return ",退回原办理流程" + resumed
        return ""
    if status in (Status.MEDIATED, Status.FILED, Status.CONFIRMED):
        if petition.status == PetitionStatus.DIVERTED.value:
            return _try_step(
                session,
                petition=petition,
                referral=referral,
                action=workflow.Action.CONCLUDE,
                payload={"note": f"{label}{STATUS_LABELS[status]}"},
                now=now,
                ctx=ctx,
            )
        return ""
    if status is Status.MEDIATION_FAILED:
        return ",转入立案审查"
    if status is Status.RETURNED:
        _notify(session, petition, referral, now, f"{petition.number}被{label}退回,请研判后续处理")
        return ",请人工研判"
    return ""


def mark_delivered(session: Session, *, referral_id: int, remote_id: str, now: datetime) -> Referral | None:
    """The worker's success: record the platform's id (once; a retry returns the same id)."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        return None
    if referral.remote_id is None:
        referral.remote_id, referral.sent_at = remote_id[:100], now
    elif referral.remote_id != remote_id:
        log.warning("referral %s: platform answered a different id on retry", referral_id)
    current = Status(referral.status)
    if current in (Status.PENDING, Status.DELIVERY_FAILED):
        worker = platform_actor(referral.platform)
        referral.status, referral.updated_at = Status.SENT.value, now
        _history(session, referral, current, Status.SENT, "system", now)
        add_event(
            session,
            petition=referral.petition,
            kind="referral.status",
            actor=worker,
            at=now,
            summary=f"{PLATFORM_LABELS[Platform(referral.platform)]}已接收移交材料",
            details={"referral_id": referral.id, "status": Status.SENT.value, "source": "system"},
        )
        audit.record(
            session,
            actor=worker,
            action="referral.delivered",
            at=now,
            object_type="referral",
            object_id=referral.id,
            details={"attempt_result": "sent"},
        )
    return referral


def mark_delivery_failed(session: Session, *, referral_id: int, error: str, now: datetime) -> None:
    """Dead-letter hook: the referral shows 发送失败 and its unit is told (retry, or export and hand over)."""
    referral = session.get(Referral, referral_id)
    if referral is None or Status(referral.status) is not Status.PENDING:
        return
    referral.status, referral.updated_at = Status.DELIVERY_FAILED.value, now
    _history(session, referral, Status.PENDING, Status.DELIVERY_FAILED, "system", now, note=error)
    petition = referral.petition
    _notify(session, petition, referral, now, f"{petition.number}移交发送失败,请重试或导出材料人工移交")
    audit.record(
        session,
        actor=platform_actor(referral.platform),
        action="referral.delivery_failed",
        at=now,
        object_type="referral",
        object_id=referral.id,
        details={"error": error[:200]},
    )


# ---- callbacks ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedRequest:
    timestamp: str | None
    nonce: str | None
    signature: str | None
    body: bytes


class CallbackRejected(XinfangError):
    """Carries the HTTP status of the rejection (401 bad signature, 409 replay, 404 unknown referral, 422 bad body)."""

    def __init__(self, message: str, *, code: str, http_status: int) -> None:
        super().__init__(message, code=code)
        self.http_status = http_status


def receive_callback(
    session: Session,
    *,
    platform: str,
    request: SignedRequest,
    platforms: Mapping[str, ReferralPlatformConfig],
    window_seconds: int,
    now: datetime,
    ctx: ProcedureContext,
) -> Applied:
    """Verify and apply one platform callback. Order: signature over the raw body (before reading anything),
    timestamp age, nonce novelty, then the body. Raises CallbackRejected; the caller audits the rejection."""
    config = platforms.get(platform)
    if config is None or not config.callback_secret:
        raise CallbackRejected("未知的平台", code="referral.callback_unknown_platform", http_status=404)
    ts, nonce, sig = request.timestamp, request.nonce, request.signature
    if not (ts and nonce and sig) or not 8 <= len(nonce) <= 100:
        raise CallbackRejected("缺少签名", code="referral.callback_unsigned", http_status=401)
    if not signing.is_valid(config.callback_secret, ts, nonce, request.body, sig):
        raise CallbackRejected("签名无效", code="referral.callback_bad_signature", http_status=401)
    try:
        sent_at = datetime.fromtimestamp(int(ts), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise CallbackRejected("时间戳无效", code="referral.callback_bad_signature", http_status=401) from exc
    if abs((now - sent_at).total_seconds()) > window_seconds:
        raise CallbackRejected("回调已过期(疑似重放)", code="referral.callback_replay", http_status=409)
    window = timedelta(seconds=2 * window_seconds)
    session.execute(
        delete(CallbackNonce)
        .where(CallbackNonce.seen_at < now - window)
        .execution_options(synchronize_session=False)
    )
    if session.execute(
        select(CallbackNonce.id).where(CallbackNonce.platform == platform, CallbackNonce.nonce == nonce)
    ).first():
        raise CallbackRejected("回调重复(重放)", code="referral.callback_replay", http_status=409)
    try:
        with session.begin_nested():
            session.add(CallbackNonce(platform=platform, nonce=nonce, seen_at=now))
    except IntegrityError as exc:  # the same nonce arriving twice at once
        raise CallbackRejected("回调重复(重放)", code="referral.callback_replay", http_status=409) from exc
    data = _callback_body(request.body)
    referral = session.execute(
        select(Referral).where(Referral.idempotency_key == data["reference"], Referral.platform == platform)
    ).scalar_one_or_none()
    if referral is None or (
        data.get("remote_id") and referral.remote_id not in (None, str(data["remote_id"]))
    ):
        raise CallbackRejected("未知的移交", code="referral.callback_unknown_referral", http_status=404)
    if referral.remote_id is None and data.get("remote_id"):
        referral.remote_id = str(data["remote_id"])[:100]  # the callback overtook the worker's confirmation
    word = config.status_map.get(str(data["status"]), str(data["status"]))
    status = REMOTE_BY_LABEL.get(word)
    if status is None:
        raise CallbackRejected("未知的状态", code="referral.callback_bad_status", http_status=422)
    try:
        return apply_status(
            session,
            referral=referral,
            status=status,
            source="callback",
            now=now,
            ctx=ctx,
            actor=platform_actor(platform),
            event_id=str(data.get("event_id") or "")[:100] or None,
            note=str(data["outcome"])[:MAX_NOTE] if data.get("outcome") else None,
        )
    except InvalidTransition:
        log.info("referral %s: stale callback ignored", referral.id)
        return Applied("stale", referral.id, referral.status)
    except InvalidInput as exc:
        raise CallbackRejected(exc.message, code=exc.code, http_status=422) from exc


def _callback_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise CallbackRejected(
            "回调内容不是 JSON", code="referral.callback_bad_body", http_status=422
        ) from exc
    if not isinstance(data, dict) or not data.get("reference") or not data.get("status"):
        raise CallbackRejected(
            "回调缺少 reference 或 status", code="referral.callback_bad_body", http_status=422
        )
    return data


def record_rejection(session: Session, *, platform: str, code: str, now: datetime) -> None:
    """Audit a refused callback: platform and reason only (no body, no personal data)."""
    audit.record(
        session,
        actor=platform_actor(platform[:20]),
        action="referral.callback_rejected",
        at=now,
        object_type="referral_callback",
        details={"platform": platform[:20], "reason": code},
    )


# ---- polling, by hand --------------------------------------------------------------------------------------------


def poll(
    sessions: sessionmaker[Session],
    *,
    adapters: AdapterFactory,
    now: Callable[[], datetime],
    ctx: ProcedureContext,
) -> dict[str, int]:
    """Ask the platforms for the status of every open, delivered referral (fallback for missed callbacks).
    Network calls happen outside any transaction; each answer is applied in a short one."""
    counts = {"checked": 0, "applied": 0, "unchanged": 0, "errors": 0}
    with sessions() as session:
        rows = session.execute(
            select(Referral.id, Referral.platform, Referral.remote_id).where(
                Referral.remote_id.is_not(None),
                Referral.delivery == "outbox",
                Referral.status.in_([s.value for s in OPEN | {Status.MEDIATION_FAILED}]),
            )
        ).all()
        session.rollback()
    for referral_id, platform, remote_id in rows:
        counts["checked"] += 1
        try:
            answer = _ask(adapters, platform, str(remote_id))
        except IntegrationError as exc:
            log.warning("poll of referral %s failed: %s", referral_id, exc.code)
            counts["errors"] += 1
            continue
        status = REMOTE_BY_LABEL.get(answer.status)
        if status is None:
            counts["errors"] += 1
            continue
        with sessions() as session, session.begin():
            referral = session.get(Referral, referral_id)
            assert referral is not None
            try:
                result = apply_status(
                    session,
                    referral=referral,
                    status=status,
                    source="poll",
                    now=now(),
                    ctx=ctx,
                    actor=platform_actor(platform),
                    event_id=answer.event_id,
                    note=answer.outcome,
                )
            except (InvalidTransition, InvalidInput):
                result = Applied("stale", referral_id, referral.status)
        counts["applied" if result.result == "applied" else "unchanged"] += 1
    return counts


def _ask(adapters: AdapterFactory, platform: str, remote_id: str) -> Any:
    adapter = adapters(platform)
    try:
        return adapter.status(remote_id)
    finally:
        close = getattr(adapter, "close", None)
        if close is not None:
            close()


def record_status(
    session: Session,
    *,
    actor: Actor,
    referral_id: int,
    status: str,
    note: str | None,
    remote_id: str | None,
    now: datetime,
    ctx: ProcedureContext,
) -> Applied:
    """Manual fallback: staff record what the platform told them (phone, paper). Same rules as a callback."""
    require(actor, "referral.manage")
    referral = get_referral(session, actor=actor, referral_id=referral_id)
    target = REMOTE_BY_LABEL.get(status)
    if target is None:
        raise InvalidInput(
            f"未知的状态:{status}", code="referral.unknown_status", choices=list(REMOTE_BY_LABEL)
        )
    if remote_id and referral.remote_id is None:
        referral.remote_id = remote_id[:100]
    return apply_status(
        session,
        referral=referral,
        status=target,
        source="manual",
        now=now,
        ctx=ctx,
        actor=actor,
        note=note,
    )


# ---- reading, exporting, counting --------------------------------------------------------------------------------


def get_referral(session: Session, *, actor: Actor, referral_id: int) -> Referral:
    require(actor, "referral.read")
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound("移交记录不存在", code="referral.not_found")
    try:
        require_petition_visible(actor, referral.petition)
    except NotFound as exc:
        raise NotFound("移交记录不存在", code="referral.not_found") from exc
    return referral


def list_referrals(
    session: Session,
    *,
    actor: Actor,
    petition_id: int | None = None,
    status: str | None = None,
    platform: str | None = None,
    limit: int = 200,
) -> list[Referral]:
    require(actor, "referral.read")
    q = select(Referral).join(Petition, Referral.petition_id == Petition.id).order_by(Referral.id.desc())
    q = scope_petitions(q, actor)
    if petition_id is not None:
        petition = session.get(Petition, petition_id)
        if petition is None:
            raise NotFound("信访件不存在或无权查看", code="petition.not_found")
        require_petition_visible(actor, petition)  # 404, not an empty list, for another unit's petition
        q = q.where(Referral.petition_id == petition_id)
    if status:
        q = q.where(Referral.status == status)
    if platform:
        q = q.where(Referral.platform == platform)
    return list(session.execute(q.limit(limit)).scalars())


def export_bundle(
    session: Session,
    *,
    actor: Actor,
    referral_id: int,
    keyring: KeyRing,
    attachments_dir: Path,
    now: datetime,
) -> tuple[str, bytes]:
    """Manual fallback: a ZIP of bundle.json (contacts decrypted: it is a hand-over) and the evidence files."""
    require(actor, "referral.manage")
    require(actor, "personal_data.unmask")
    referral = get_referral(session, actor=actor, referral_id=referral_id)
    bundle = wire_bundle(session, referral, keyring=keyring, attachments_dir=attachments_dir, inline=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in bundle["evidence"]:
            name = f"attachments/{item['attachment_id']}-{Path(item['filename']).name}"
            item["path"] = name
            zf.writestr(name, read_stored(attachments_dir, item["sha256"]))
        zf.writestr("bundle.json", json.dumps(bundle, ensure_ascii=False, indent=2))
    audit.record(
        session,
        actor=actor,
        action="referral.export",
        at=now,
        object_type="referral",
        object_id=referral.id,
        details={"attachments": len(bundle["evidence"])},
    )
    return f"{referral.petition.number}-移交材料-{referral.id}.zip", buffer.getvalue()


def counts_query(start: datetime | None, end: datetime | None, *keys: Any) -> Select[Any]:
    """The one referral count: referrals made in [start, end), grouped by `keys` (expressions over Referral or
    Petition, e.g. the petition's department), platform, status and outcome; rows (*keys, platform, status,
    outcome, n). `stats` (/api/referrals/stats, the dashboard) and the accountability figures both read it."""
    cols = (*keys, Referral.platform, Referral.status, Referral.outcome)
    q = (
        select(*cols, func.count(Referral.id))
        .join(Petition, Referral.petition_id == Petition.id)
        .group_by(*cols)
    )
    if start is not None:
        q = q.where(Referral.created_at >= start)
    if end is not None:
        q = q.where(Referral.created_at < end)
    return q


def stats(session: Session, *, actor: Actor, start: datetime | None, end: datetime | None) -> dict[str, Any]:
    """Referrals made in [start, end) of the petitions the actor may see: by platform, status and outcome."""
    require(actor, "referral.stats")
    q = scope_petitions(counts_query(start, end), actor)
    by_platform: dict[str, int] = {}
    by_status: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    matrix: dict[str, dict[str, int]] = {}
    total = 0
    for platform, status, outcome, n in session.execute(q).all():
        total += n
        by_platform[platform] = by_platform.get(platform, 0) + n
        by_status[status] = by_status.get(status, 0) + n
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
        row = matrix.setdefault(platform, {})
        row[outcome] = row.get(outcome, 0) + n
    return {
        "from": start,
        "to": end,
        "total": total,
        "by_platform": by_platform,
        "by_status": by_status,
        "by_outcome": by_outcome,
        "by_platform_outcome": matrix,
        "labels": {s.value: STATUS_LABELS[s] for s in Status}
        | {p.value: PLATFORM_LABELS[p] for p in Platform},
        "outcome_labels": {o.value: OUTCOME_LABELS[o] for o in Outcome},
    }


def referral_view(referral: Referral) -> dict[str, Any]:
    platform = Platform(referral.platform)
    return {
        "id": referral.id,
        "petition_id": referral.petition_id,
        "number": referral.petition.number,
        "platform": platform.value,
        "platform_label": PLATFORM_LABELS[platform],
        "kind": referral.kind,
        "status": referral.status,
        "status_label": STATUS_LABELS[Status(referral.status)],
        "delivery": referral.delivery,
        "reference": referral.idempotency_key,
        "remote_id": referral.remote_id,
        "outcome": referral.outcome,
        "outcome_note": referral.outcome_note,
        "consent": {
            k: referral.consent.get(k) for k in ("method", "given_at", "petitioner_ids", "recorded_by")
        },
        "evidence_count": len(referral.bundle.get("evidence", [])),
        "paused_on": referral.paused_on,
        "resumed_on": referral.resumed_on,
        "created_at": referral.created_at,
        "sent_at": referral.sent_at,
        "closed_at": referral.closed_at,
        "history": [
            {"status": h.status, "previous": h.previous, "source": h.source, "at": h.at, "note": h.note}
            for h in referral.history
        ],
    }


# ---- the case page: delivery state, what may be recorded by hand, resending a dead letter ------------------------

DELIVERY_LABELS = {
    "manual": "人工移交",
    "pending": "待发送",
    "running": "发送中",
    "retrying": "重试中",
    "delivered": "已送达",
    "dead": "失败进入死信",
}


def delivery_states(session: Session, referrals: list[Referral]) -> dict[int, dict[str, Any]]:
    """Per referral, where its outbox delivery stands (from the job row, found by its unique key): state, label,
    attempts, next attempt, last error, the job id (for the operator). A purged done job reads as delivered."""
    from xinfang.store.jobs import Job, JobState

    keys = {delivery_key(r.id): r for r in referrals if r.delivery == "outbox"}
    jobs = {}
    if keys:
        jobs = {
            j.dedup_key: j
            for j in session.execute(select(Job).where(Job.dedup_key.in_(list(keys)))).scalars()
        }
    out: dict[int, dict[str, Any]] = {}
    for r in referrals:
        job = jobs.get(delivery_key(r.id))
        if r.delivery != "outbox":
            state = "manual"
        elif job is None:
            state = "delivered" if r.remote_id else "pending"
        elif job.state == JobState.DEAD.value:
            state = "dead"
        elif job.state == JobState.DONE.value:
            state = "delivered"
        elif job.state == JobState.RUNNING.value:
            state = "running"
        else:
            state = "retrying" if job.attempts else "pending"
        out[r.id] = {
            "state": state,
            "label": DELIVERY_LABELS[state],
            "job_id": job.id if job else None,
            "attempts": job.attempts if job else 0,
            "max_attempts": job.max_attempts if job else 0,
            "next_attempt_at": job.next_attempt_at if job and state in ("pending", "retrying") else None,
            "last_error": job.last_error if job and state in ("retrying", "dead") else None,
        }
    return out


def manual_statuses(referral: Referral) -> list[str]:
    """The statuses (Chinese words) `record_status` would apply to this referral now: those its platform reports
    that may follow the current one. Empty for a finished referral."""
    current, platform = Status(referral.status), Platform(referral.platform)
    allowed = NEXT[current] & REMOTE_BY_PLATFORM[platform]
    return [word for word, status in REMOTE_BY_LABEL.items() if status in allowed]


def resend_delivery(session: Session, *, actor: Actor, referral_id: int, now: datetime) -> Referral:
    """The operator resends a dead-lettered delivery: the same as `POST /api/jobs/{id}/retry` (jobs.manage, a fresh
    set of attempts, audited), found from the referral. Its status stays 发送失败 until the platform confirms."""
    from xinfang.store.jobs import job_for_key
    from xinfang.store.jobs import retry as retry_job

    require(actor, "jobs.manage")
    referral = get_referral(session, actor=actor, referral_id=referral_id)
    job = job_for_key(session, delivery_key(referral.id))
    if job is None:
        raise NotFound("该移交没有发送任务", code="job.not_found")
    retry_job(session, job_id=job.id, now=now)
    audit.record(session, actor=actor, action="job.retry", at=now, object_type="job", object_id=job.id)
    return referral
