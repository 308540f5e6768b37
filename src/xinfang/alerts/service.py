"""The alerts slice's use cases: run the warning scan, list alerts, acknowledge, resolve, deliver the outbox.

`run_warning_scan(session, now=..., config=...)` is the one entry point for a full scan (the CLI, the worker and
the scale benchmark call it): it reads daily counts from the petitions table — township × category and
county × category, by China local date of receipt — runs the stream methods, the space-time scan and the rules
of `xinfang.analytics.warning` for the day before `now` (the last complete day; pass `day=` for another), and
upserts alerts: signals of one situation update its open alert instead of opening a new one each day.
Services never commit; the caller does.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinfang.alerts.channels import (
    AlertMessage,
    ChannelRegistry,
    DeliveryContext,
    channel_specs,
    default_registry,
)
from xinfang.alerts.models import Alert, AlertAction, AlertDelivery
from xinfang.analytics.warning.baseline import day_types
from xinfang.analytics.warning.combine import (
    RED,
    TIER_NAMES,
    Signal,
    WarningConfig,
    consolidate,
    detect_stream_signals,
    scan_tier,
)
from xinfang.analytics.warning.rules import RuleRecord, group_visit_rule, matter_rule, risk_rule
from xinfang.analytics.warning.scan import space_time_permutation_scan
from xinfang.analytics.warning.series import count_matrix
from xinfang.cases.enums import OrgKind
from xinfang.cases.models import Petition, Petitioner
from xinfang.clock import CHINA_TZ, local_date
from xinfang.dispatch.models import PetitionLink
from xinfang.errors import InvalidInput, InvalidTransition, NotFound
from xinfang.org.models import OrgUnit
from xinfang.security import audit
from xinfang.security.actors import SYSTEM, Actor
from xinfang.security.permissions import require
from xinfang.store import locks

UNCATEGORISED = "未分类"
MAX_PETITION_IDS = 500
METHOD_LABELS = {
    "nb_regression": "负二项回归(当日)",
    "nb_cusum": "负二项CUSUM(持续上升)",
    "scan": "时空重排扫描",
    "matter_rule": "同一事项多人反映",
    "group_visit": "集体访",
    "risk_signal": "风险信号",
}
OPEN_STATUSES = ("open", "acknowledged")
SCAN_LOCK = "alerts.warning_scan"
COUNTY_CODE_LENGTH = 6


@dataclass
class ScanReport:
    day: date
    records_read: int = 0
    streams: int = 0
    signals: int = 0
    opened: int = 0
    updated: int = 0
    escalated: int = 0
    suppressed: int = 0
    deliveries_enqueued: int = 0
    alert_ids: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["day"] = self.day.isoformat()
        return out


@dataclass(frozen=True)
class _Row:
    id: int
    day: date
    township: str | None
    category: str


def _is_rest_day_fn() -> Any:
    from xinfang.cases.calendar import load_calendar

    try:
        calendar = load_calendar()
    except Exception:  # pragma: no cover - the packaged calendar always loads
        return lambda d: d.weekday() >= 5

    def rest(day: date) -> bool:
        return calendar.is_rest_day(day) if calendar.covers(day.year) else day.weekday() >= 5

    return rest


def run_warning_scan(
    session: Session,
    *,
    now: datetime,
    config: WarningConfig | None = None,
    day: date | None = None,
    channels: list[dict[str, Any]] | None = None,
    actor: Actor = SYSTEM,
    county: str | None = None,
) -> ScanReport:
    """Scan the last complete local day (or `day`) and upsert alerts; enqueue deliveries for new tiers.

    `county` (a 6-digit division code) confines the scan to that county's townships and petitions: a database
    holding a province's counties is scanned county by county (the methods compare townships within a county;
    one scan over a thousand townships would also cost minutes and gigabytes). Its county-wide situations are
    keyed by the county code instead of "county"."""
    config = config or WarningConfig()
    day = day or (local_date(now) - timedelta(days=1))
    if county is not None and not (len(county) == COUNTY_CODE_LENGTH and county.isdigit()):
        raise InvalidInput("县级区划代码应为6位数字", code="alerts.bad_county")
    # Scans started at once (a timer on each of several hosts) run one after the other: the second then finds
    # the first one's alerts and updates them instead of opening duplicates of the same situations.
    locks.hold(session, f"{SCAN_LOCK}:{county or '*'}")
    report = ScanReport(day=day)
    specs = channel_specs(channels or [])
    clock = time.perf_counter()

    history = max(config.prior_days + config.window_days + config.guard_days, config.scan_study_days) + 1
    start = day - timedelta(days=history - 1)
    lo = datetime.combine(start, datetime.min.time(), CHINA_TZ)
    hi = datetime.combine(day + timedelta(days=1), datetime.min.time(), CHINA_TZ)
    petitions = select(Petition.id, Petition.received_at, Petition.township_code, Petition.category).where(
        Petition.received_at >= lo, Petition.received_at < hi
    )
    if county is not None:  # a range on the (township_code, received_at) index, whatever the collation
        petitions = petitions.where(Petition.township_code.between(f"{county}000", f"{county}999"))
    raw = session.execute(petitions).all()
    rows = [_Row(i, local_date(at), t, c or UNCATEGORISED) for i, at, t, c in raw]
    report.records_read = len(rows)
    report.seconds["read"] = round(time.perf_counter() - clock, 3)

    places = select(OrgUnit.code, OrgUnit.name, OrgUnit.lng, OrgUnit.lat).where(
        OrgUnit.kind == OrgKind.TOWNSHIP.value
    )
    if county is not None:
        places = places.where(OrgUnit.code.between(f"{county}000", f"{county}999"))
    townships = session.execute(places).all()
    names = {code: name for code, name, _lng, _lat in townships}
    signals: list[Signal] = []

    clock = time.perf_counter()
    categories = sorted({r.category for r in rows})
    codes = sorted(names)
    keys: list[Any] = [(t, c) for t in codes for c in categories] + [(None, c) for c in categories]
    matrix = count_matrix(
        [r.day for r in rows] + [r.day for r in rows],
        [(r.township, r.category) for r in rows] + [(None, r.category) for r in rows],
        start=start,
        end=day,
        all_keys=keys,
    )
    report.streams = len(keys)
    if keys:
        types = day_types(start, matrix.days, is_rest_day=_is_rest_day_fn())
        # Before the earliest record the data is missing, not quiet (a new deployment, a first import).
        first_day = (min(r.day for r in rows) - start).days if rows else 0
        signals += detect_stream_signals(matrix, types, config, first_day=first_day)
    report.seconds["streams"] = round(time.perf_counter() - clock, 3)

    clock = time.perf_counter()
    placed = [(c, lng, lat) for c, _n, lng, lat in townships if lng is not None and lat is not None]
    signals += _scan_signals(rows, placed, day=day, config=config)
    report.seconds["scan"] = round(time.perf_counter() - clock, 3)

    clock = time.perf_counter()
    signals += _rule_signals(session, rows, day=day, config=config)
    report.seconds["rules"] = round(time.perf_counter() - clock, 3)
    _attach_petitions(signals, rows, config)
    report.signals = len(signals)

    clock = time.perf_counter()
    for key, group in consolidate(signals).items():
        _upsert(
            session,
            key=key.replace("place:county:", f"place:{county}:", 1) if county else key,
            signals=group,
            now=now,
            day=day,
            names=names,
            specs=specs,
            config=config,
            report=report,
            actor=actor,
        )
    report.seconds["alerts"] = round(time.perf_counter() - clock, 3)
    return report


def _scan_signals(
    rows: list[_Row], placed: list[tuple[str, float, float]], *, day: date, config: WarningConfig
) -> list[Signal]:
    if len(placed) < 2:
        return []
    zone = {c: i for i, (c, _lng, _lat) in enumerate(placed)}
    lng = np.array([p[1] for p in placed])
    lat = np.array([p[2] for p in placed])
    first = day - timedelta(days=config.scan_study_days - 1)
    cube: dict[str | None, np.ndarray] = defaultdict(
        lambda: np.zeros((len(placed), config.scan_study_days), np.int64)
    )
    for r in rows:
        if r.township in zone and r.day >= first:
            t = (r.day - first).days
            cube[None][zone[r.township], t] += 1
            cube[r.category][zone[r.township], t] += 1
    out = []
    for category, cases in sorted(cube.items(), key=lambda kv: kv[0] or ""):
        result = space_time_permutation_scan(
            cases,
            lng,
            lat,
            max_radius_km=config.scan_max_radius_km,
            max_window_days=config.scan_max_window_days,
            replicates=config.scan_replicates,
            seed=config.scan_seed + day.toordinal(),
            min_cases=config.scan_min_cases,
            min_llr=config.scan_min_llr,
        )
        for cl in result.clusters:
            tier = scan_tier(cl, config)
            if tier:
                out.append(
                    Signal(
                        kind="scan",
                        method="scan",
                        tier=tier,
                        day=day,
                        township_codes=[placed[z][0] for z in cl.zones],
                        category=category,
                        observed=float(cl.cases),
                        baseline=round(cl.expected, 3),
                        statistic=round(cl.llr, 3),
                        threshold=config.scan_ri_red_days if tier == RED else config.scan_p_yellow,
                        p_value=cl.p_value,
                        recurrence_interval_days=round(cl.recurrence_interval_days, 1),
                        window_days=cl.window_days,
                        details={
                            "radius_km": round(cl.radius_km, 1),
                            "replicates": result.replicates,
                            "relative_risk": round(cl.relative_risk, 2),
                        },
                    )
                )
    return out


def _rule_signals(session: Session, rows: list[_Row], *, day: date, config: WarningConfig) -> list[Signal]:
    since = day - timedelta(days=max(config.matter_window_days, config.rule_lookback_days) - 1)
    ids = [r.id for r in rows if r.day >= since]
    if not ids:
        return []
    petitions = session.execute(
        select(Petition.id, Petition.channel, Petition.headcount, Petition.analysis).where(
            Petition.id.in_(ids)
        )
    ).all()
    people: dict[int, list[str]] = defaultdict(list)
    for pid, pet_id, bidx, phone in session.execute(
        select(Petitioner.petition_id, Petitioner.id, Petitioner.id_number_bidx, Petitioner.phone_bidx).where(
            Petitioner.petition_id.in_(ids)
        )
    ):
        # Opaque identities only: a blind index, else the petitioner row (unknown people count as distinct).
        people[pid].append(bidx or (f"tel:{phone}" if phone else f"row:{pet_id}"))
    links = session.execute(
        select(PetitionLink.petition_id, PetitionLink.earlier_id).where(
            PetitionLink.petition_id.in_(ids), PetitionLink.kind.in_(("same_matter", "both"))
        )
    ).all()
    by_id = {r.id: r for r in rows}
    records = []
    for pid, channel, headcount, analysis in petitions:
        row = by_id[pid]
        risks = tuple(
            sorted({str(x.get("type")) for x in (analysis or {}).get("risks") or [] if isinstance(x, dict)})
        )
        records.append(
            RuleRecord(
                pid, row.day, row.township, row.category, channel, headcount, tuple(people[pid]), risks
            )
        )
    today = [r for r in records if r.day > day - timedelta(days=config.rule_lookback_days)]
    return (
        matter_rule(records, [(a, b) for a, b in links], day=day, config=config)
        + group_visit_rule(today, day=day, config=config)
        + risk_rule(today, day=day, config=config)
    )


def _attach_petitions(signals: list[Signal], rows: list[_Row], config: WarningConfig) -> None:
    """Contributing records of statistical signals: the stream's (or cluster's) petitions in the signal window."""
    for s in signals:
        if s.petition_ids or s.kind == "rule":
            continue
        since = s.day - timedelta(days=s.window_days - 1)
        places = set(s.township_codes)
        s.petition_ids = [
            r.id
            for r in rows
            if since <= r.day <= s.day
            and (not places or r.township in places)
            and (s.category is None or r.category == s.category)
        ][:MAX_PETITION_IDS]


def _evidence(signal: Signal) -> dict[str, Any]:
    return {
        "method": signal.method,
        "label": METHOD_LABELS.get(signal.method, signal.method),
        "tier": TIER_NAMES.get(signal.tier, "none"),
        "day": signal.day.isoformat(),
        "townships": signal.township_codes,
        "category": signal.category,
        "observed": signal.observed,
        "baseline": signal.baseline,
        "statistic": signal.statistic,
        "threshold": signal.threshold,
        "p_value": signal.p_value,
        "recurrence_interval_days": signal.recurrence_interval_days,
        "window_days": signal.window_days,
        "petition_ids": signal.petition_ids,
        "details": signal.details,
    }


def _title(signals: list[Signal], names: dict[str, str]) -> tuple[str, str | None, str | None]:
    lead = max(signals, key=lambda s: s.tier)
    town = lead.township_codes[0] if lead.township_codes else None
    place = names.get(town, town or "") if town else "全县"
    if len(lead.township_codes) > 1:
        place += f"等{len(lead.township_codes)}个乡镇"
    category = lead.category
    what = {
        "nb_regression": "信访量异常",
        "nb_cusum": "信访量持续上升",
        "scan": "信访时空聚集",
        "matter_rule": f"同一事项{int(lead.observed or 0)}人反映",
        "group_visit": f"集体访({int(lead.observed or 0)}人)",
        "risk_signal": "风险信号(" + "、".join(lead.details.get("risk_types", [])) + ")",
    }[lead.method]
    return f"{place}·{category or '全部类别'}:{what}"[:200], town, category


def _record_action(
    session: Session, alert: Alert, action: str, actor: Actor, now: datetime, note: str | None
) -> None:
    alert.actions.append(
        AlertAction(action=action, at=now, actor_id=actor.user_id, actor_name=actor.username, note=note)
    )
    audit.record(
        session,
        actor=actor,
        action=f"alert.{action}",
        at=now,
        object_type="alert",
        object_id=alert.id,
        details={"tier": alert.tier, "status": alert.status},
    )


def _upsert(
    session: Session,
    *,
    key: str,
    signals: list[Signal],
    now: datetime,
    day: date,
    names: dict[str, str],
    specs: list[dict[str, Any]],
    config: WarningConfig,
    report: ScanReport,
    actor: Actor,
) -> None:
    tier = max(s.tier for s in signals)
    ids = sorted({i for s in signals for i in s.petition_ids})
    recent = session.execute(
        select(Alert).where(Alert.situation_key == key).order_by(Alert.id.desc()).limit(1)
    ).scalar_one_or_none()
    gap = timedelta(days=config.merge_gap_days)
    resolved_recently = (
        recent is not None and recent.status == "resolved" and day - recent.last_signal_on <= gap
    )
    if resolved_recently and recent is not None and not set(ids) - set(recent.petition_ids or []):
        report.suppressed += 1  # the situation was just resolved and nothing new has come in
        return
    if recent is not None and recent.status in OPEN_STATUSES and day - recent.last_signal_on <= gap:
        alert = recent
        previous = alert.tier
        evidence = dict(alert.evidence or {})
        for s in signals:
            evidence[s.method] = _evidence(s)
        alert.evidence = evidence
        alert.methods = sorted(set(alert.methods or []) | {s.method for s in signals})
        alert.petition_ids = sorted(set(alert.petition_ids or []) | set(ids))[-MAX_PETITION_IDS:]
        if day > alert.last_signal_on:
            alert.signal_days += 1
            alert.last_signal_on = day
        alert.updated_at = now
        if tier == RED and previous != "red":
            alert.tier, alert.red_at = "red", now
            alert.title = _title(signals, names)[0]
            _record_action(session, alert, "escalated", actor, now, None)
            report.escalated += 1
            report.deliveries_enqueued += _enqueue(session, alert, specs, now)
        else:
            _record_action(session, alert, "updated", actor, now, None)
        report.updated += 1
    else:
        title, town, category = _title(signals, names)
        alert = Alert(
            situation_key=key,
            tier=TIER_NAMES[tier],
            status="open",
            title=title,
            township_code=town,
            category=category,
            methods=sorted({s.method for s in signals}),
            evidence={s.method: _evidence(s) for s in signals},
            petition_ids=ids[-MAX_PETITION_IDS:],
            first_signal_on=day,
            last_signal_on=day,
            signal_days=1,
            opened_at=now,
            updated_at=now,
            red_at=now if tier == RED else None,
        )
        session.add(alert)
        session.flush()
        _record_action(session, alert, "opened", actor, now, None)
        report.opened += 1
        report.deliveries_enqueued += _enqueue(session, alert, specs, now)
    report.alert_ids.append(alert.id)


def _enqueue(session: Session, alert: Alert, specs: list[dict[str, Any]], now: datetime) -> int:
    """One outbox row per channel that carries this tier; the unique key makes a repeat a no-op."""
    existing = set(
        session.execute(
            select(AlertDelivery.channel).where(
                AlertDelivery.alert_id == alert.id, AlertDelivery.tier == alert.tier
            )
        ).scalars()
    )
    added = 0
    for spec in specs:
        if alert.tier in spec.get("tiers", ["red"]) and spec["name"] not in existing:
            session.add(
                AlertDelivery(
                    alert_id=alert.id,
                    channel=spec["name"],
                    tier=alert.tier,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            added += 1
    session.flush()
    return added


# ---- reads and the acknowledge / resolve trail ---------------------------------------------------------


def list_alerts(
    session: Session, *, actor: Actor, status: str | None = None, tier: str | None = None, limit: int = 100
) -> list[Alert]:
    require(actor, "alert.read")
    query = select(Alert).order_by(Alert.updated_at.desc(), Alert.id.desc()).limit(limit)
    if status:
        query = query.where(Alert.status == status)
    if tier:
        query = query.where(Alert.tier == tier)
    return list(session.execute(query).scalars())


def get_alert(session: Session, *, actor: Actor, alert_id: int) -> Alert:
    require(actor, "alert.read")
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("预警不存在", code="alert.not_found")
    return alert


def acknowledge_alert(
    session: Session, *, actor: Actor, alert_id: int, now: datetime, note: str | None = None
) -> Alert:
    require(actor, "alert.manage")
    alert = get_alert(session, actor=actor, alert_id=alert_id)
    if alert.status != "open":
        raise InvalidTransition(
            "只有未处理的预警可以签收", code="alert.not_open", from_=alert.status, to="acknowledged"
        )
    alert.status, alert.acknowledged_at, alert.acknowledged_by_id = "acknowledged", now, actor.user_id
    alert.updated_at = now
    _record_action(session, alert, "acknowledged", actor, now, _note(note))
    return alert


def resolve_alert(session: Session, *, actor: Actor, alert_id: int, now: datetime, note: str) -> Alert:
    require(actor, "alert.manage")
    alert = get_alert(session, actor=actor, alert_id=alert_id)
    if alert.status == "resolved":
        raise InvalidTransition("预警已处置完毕", code="alert.resolved", from_=alert.status, to="resolved")
    if not (note or "").strip():
        raise InvalidInput("处置预警需填写处置情况", code="alert.note_required")
    alert.status, alert.resolved_at, alert.resolved_by_id = "resolved", now, actor.user_id
    alert.updated_at = now
    _record_action(session, alert, "resolved", actor, now, _note(note))
    return alert


def _note(note: str | None) -> str | None:
    return note.strip()[:2000] if note and note.strip() else None


# ---- delivery -------------------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0


def message_for(alert: Alert, delivery: AlertDelivery, *, base_url: str) -> AlertMessage:
    """Counts, place, category, alert id and a link — nothing about any person."""
    lead: dict[str, Any] = max(
        (alert.evidence or {}).values(),
        key=lambda e: (e.get("tier") == "red", e.get("statistic") or 0),
        default={},
    )
    label = "红色预警" if delivery.tier == "red" else "黄色预警"
    lines = [f"预警编号:#{alert.id}", f"涉及信访件:{len(alert.petition_ids or [])}件"]
    if lead:
        basis = f"依据:{lead.get('label')}"
        if lead.get("observed") is not None:
            basis += f",近{lead.get('window_days', 1)}日{lead['observed']:g}件"
        if lead.get("baseline") is not None:
            basis += f"(基线{lead['baseline']:g})"
        if lead.get("recurrence_interval_days"):
            basis += f",重现间隔约{lead['recurrence_interval_days']:g}天"
        lines.insert(1, basis)
    return AlertMessage(
        alert_id=alert.id,
        delivery_id=delivery.id,
        tier=delivery.tier,
        title=f"【{label}】{alert.title}",
        lines=tuple(lines),
        link=f"{base_url.rstrip('/')}/alerts/{alert.id}",
        township_code=alert.township_code,
    )


def deliver_pending(
    session: Session,
    *,
    now: datetime,
    channels: list[dict[str, Any]] | None = None,
    registry: ChannelRegistry | None = None,
    base_url: str = "http://127.0.0.1:8000",
    max_attempts: int = 6,
    base_delay_seconds: float = 60.0,
    limit: int = 100,
) -> DeliveryReport:
    """Send due outbox rows once each. A row is claimed with a conditional UPDATE (another worker that got it
    first leaves rowcount 0); success marks it sent, failure schedules the next attempt after
    base_delay × 2^(attempts − 1), and after `max_attempts` (or a non-retryable error) it stays `failed`."""
    registry = registry or default_registry()
    specs = {s["name"]: s for s in channel_specs(channels or [])}
    report = DeliveryReport()
    due = (
        session.execute(
            select(AlertDelivery.id)
            .where(AlertDelivery.status == "pending", AlertDelivery.next_attempt_at <= now)
            .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    from xinfang.errors import IntegrationError

    for delivery_id in due:
        claimed = session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id, AlertDelivery.status == "pending")
            .values(status="sending")
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            report.skipped += 1
            continue
        delivery = session.get(AlertDelivery, delivery_id)
        assert delivery is not None
        session.refresh(delivery)
        alert = session.get(Alert, delivery.alert_id)
        delivery.attempts += 1
        spec = specs.get(delivery.channel)
        try:
            if spec is None:
                raise IntegrationError("推送渠道未配置", code="alerts.channel_missing", retryable=False)
            channel = registry.build(spec)
            assert alert is not None
            channel.send(message_for(alert, delivery, base_url=base_url), DeliveryContext(session, now))
        except IntegrationError as exc:
            delivery.last_error = f"{exc.code}: {exc.message}"[:500]
            if exc.retryable and delivery.attempts < max_attempts:
                delivery.status = "pending"
                delivery.next_attempt_at = now + timedelta(
                    seconds=base_delay_seconds * 2 ** (delivery.attempts - 1)
                )
                report.retried += 1
            else:
                delivery.status = "failed"
                report.failed += 1
                audit.record(
                    session,
                    actor=SYSTEM,
                    action="alert.delivery_failed",
                    at=now,
                    object_type="alert",
                    object_id=delivery.alert_id,
                    details={"channel": delivery.channel, "attempts": delivery.attempts},
                )
        else:
            delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
            report.sent += 1
            audit.record(
                session,
                actor=SYSTEM,
                action="alert.delivered",
                at=now,
                object_type="alert",
                object_id=delivery.alert_id,
                details={"channel": delivery.channel, "tier": delivery.tier},
            )
        session.flush()
    return report


def alert_read(alert: Alert) -> dict[str, Any]:
    """The API shape of an alert: its evidence and its trail (actor usernames and notes, no petitioner data)."""
    return {
        "id": alert.id,
        "tier": alert.tier,
        "status": alert.status,
        "title": alert.title,
        "township_code": alert.township_code,
        "category": alert.category,
        "situation_key": alert.situation_key,
        "methods": alert.methods,
        "first_signal_on": alert.first_signal_on.isoformat(),
        "last_signal_on": alert.last_signal_on.isoformat(),
        "signal_days": alert.signal_days,
        "opened_at": alert.opened_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
        "red_at": alert.red_at.isoformat() if alert.red_at else None,
        "petition_ids": alert.petition_ids,
        "evidence": alert.evidence,
        "trail": [
            {"action": a.action, "at": a.at.isoformat(), "actor": a.actor_name, "note": a.note}
            for a in alert.actions
        ],
    }
