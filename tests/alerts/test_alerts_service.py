"""The warning scan against the database: alerts with evidence, merged while a situation persists, the
acknowledge/resolve trail and who may do it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.alerts.conftest import add_petition, link
from xinfang.alerts.models import Alert, AlertDelivery
from xinfang.alerts.service import run_warning_scan
from xinfang.analytics.warning.combine import WarningConfig
from xinfang.runtime import Runtime
from xinfang.security.models import AuditEntry

DAY = date(2026, 3, 1)  # the clock fixture's "yesterday"
TOWN = "350428101"
CATEGORY = "劳动和社会保障"
CFG = dataclasses.replace(WarningConfig(), scan_replicates=199)


def _background(rt: Runtime) -> None:
    rng = np.random.default_rng(7)
    with rt.session() as s:
        for back in range(420, 0, -1):
            day = DAY - timedelta(days=back)
            for town in ("350428101", "350428102", "350428103", "350428104"):
                for _ in range(rng.poisson(0.4)):
                    add_petition(s, day=day, township=town, category=CATEGORY)


def _surge(rt: Runtime, days: list[date], per_day: list[int]) -> list[int]:
    ids = []
    with rt.session() as s:
        prev = None
        for day, n in zip(days, per_day, strict=True):
            for _ in range(n):
                p = add_petition(s, day=day, township=TOWN, category=CATEGORY)
                if prev is not None:
                    link(s, p, prev)
                prev = p
                ids.append(p.id)
    return ids


@pytest.fixture
def surged(seeded: Runtime) -> tuple[Runtime, list[int]]:
    _background(seeded)
    ids = _surge(seeded, [DAY - timedelta(days=k) for k in (3, 2, 1, 0)], [2, 3, 4, 6])
    return seeded, ids


def test_a_surge_raises_one_red_alert_with_its_evidence(surged: tuple[Runtime, list[int]]) -> None:
    rt, ids = surged
    with rt.session() as s:
        report = run_warning_scan(s, now=rt.clock.now(), config=CFG)
    assert report.day == DAY and report.opened >= 1
    with rt.session() as s:
        alerts = s.execute(select(Alert).where(Alert.township_code == TOWN)).scalars().all()
        assert len(alerts) == 1
        alert = alerts[0]
        assert alert.tier == "red" and alert.category == CATEGORY and alert.status == "open"
        assert set(ids) <= set(alert.petition_ids)
        assert {"nb_cusum", "matter_rule"} <= set(alert.methods)
        cusum = alert.evidence["nb_cusum"]
        assert cusum["statistic"] >= cusum["threshold"] and cusum["baseline"] < cusum["observed"]
        assert alert.evidence["matter_rule"]["observed"] >= 5
        assert [a.action for a in alert.actions] == ["opened"]
        deliveries = (
            s.execute(select(AlertDelivery).where(AlertDelivery.alert_id == alert.id)).scalars().all()
        )
        assert [(d.channel, d.tier, d.status) for d in deliveries] == [("inapp", "red", "pending")]
        assert s.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "alert.opened")
        ).scalar()


def test_a_persisting_situation_updates_its_alert_instead_of_opening_another(
    surged: tuple[Runtime, list[int]],
) -> None:
    rt, _ids = surged
    with rt.session() as s:
        run_warning_scan(s, now=rt.clock.now(), config=CFG)
    with rt.session() as s:  # the same scan again (a re-run) changes nothing but the trail
        run_warning_scan(s, now=rt.clock.now(), config=CFG)
    more = _surge(rt, [DAY + timedelta(days=1)], [5])
    with rt.session() as s:
        report = run_warning_scan(s, now=rt.clock.now() + timedelta(days=1), config=CFG)
    assert report.updated >= 1
    with rt.session() as s:
        alerts = (
            s.execute(select(Alert).where(Alert.situation_key == f"place:{TOWN}:{CATEGORY}")).scalars().all()
        )
        assert len(alerts) == 1
        assert alerts[0].signal_days == 2 and alerts[0].last_signal_on == DAY + timedelta(days=1)
        assert set(more) <= set(alerts[0].petition_ids)
        assert s.execute(select(func.count()).select_from(AlertDelivery)).scalar() == len(
            s.execute(select(Alert)).scalars().all()
        )  # one in-app delivery per alert and tier, however often scanned


def test_homogeneous_history_raises_no_red_alert(seeded: Runtime) -> None:
    _background(seeded)
    with seeded.session() as s:
        run_warning_scan(s, now=seeded.clock.now(), config=CFG)
    with seeded.session() as s:
        assert s.execute(select(func.count()).select_from(Alert).where(Alert.tier == "red")).scalar() == 0


def test_rule_alerts_for_a_group_visit_and_a_threat_of_self_harm(seeded: Runtime) -> None:
    with seeded.session() as s:
        add_petition(s, day=DAY, channel="visit", headcount=25, petitioners=[f"g{i}" for i in range(5)])
        add_petition(
            s, day=DAY, township="350428102", analysis={"risks": [{"type": "self_harm", "label": "x"}]}
        )
    with seeded.session() as s:
        run_warning_scan(s, now=seeded.clock.now(), config=CFG)
    with seeded.session() as s:
        found = {(a.township_code, m, a.tier) for a in s.execute(select(Alert)).scalars() for m in a.methods}
    assert (TOWN, "group_visit", "red") in found
    assert ("350428102", "risk_signal", "red") in found


def _open_alert(rt: Runtime) -> int:
    with rt.session() as s:
        add_petition(s, day=DAY, channel="visit", headcount=8)
    with rt.session() as s:
        run_warning_scan(s, now=rt.clock.now(), config=CFG)
    with rt.session() as s:
        return s.execute(select(Alert.id)).scalars().one()


Auth = Callable[[str], dict[str, str]]


def test_supervisors_acknowledge_and_leaders_resolve_with_a_trail(
    client: TestClient, auth: Auth, seeded: Runtime
) -> None:
    alert_id = _open_alert(seeded)
    r = client.get("/api/alerts", params={"status": "open", "tier": "yellow"}, headers=auth("supervisor"))
    assert r.status_code == 200 and [a["id"] for a in r.json()] == [alert_id]
    assert r.json()[0]["evidence"]["group_visit"]["observed"] == 8
    r = client.post(
        f"/api/alerts/{alert_id}/acknowledge", json={"note": "已联系乡镇"}, headers=auth("supervisor")
    )
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    r = client.post(f"/api/alerts/{alert_id}/resolve", json={}, headers=auth("leader"))
    assert r.status_code == 422 and r.json()["detail"]["code"] == "alert.note_required"
    r = client.post(f"/api/alerts/{alert_id}/resolve", json={"note": "已化解"}, headers=auth("leader"))
    assert r.status_code == 200
    trail = [(t["action"], t["actor"], t["note"]) for t in r.json()["trail"]]
    assert trail == [
        ("opened", "system", None),
        ("acknowledged", "supervisor", "已联系乡镇"),
        ("resolved", "leader", "已化解"),
    ]
    r = client.post(f"/api/alerts/{alert_id}/resolve", json={"note": "again"}, headers=auth("leader"))
    assert r.status_code == 409
    with seeded.session() as s:
        actions = (
            s.execute(select(AuditEntry.action).where(AuditEntry.object_type == "alert")).scalars().all()
        )
    assert "alert.acknowledged" in actions and "alert.resolved" in actions


@pytest.mark.parametrize("user", ["clerk", "handler_rsj", "township_wa"])
def test_other_roles_may_neither_read_nor_handle_alerts(
    client: TestClient, auth: Auth, seeded: Runtime, user: str
) -> None:
    alert_id = _open_alert(seeded)
    assert client.get("/api/alerts", headers=auth(user)).status_code == 403
    r = client.post(f"/api/alerts/{alert_id}/acknowledge", json={}, headers=auth(user))
    assert r.status_code == 403


def test_a_resolved_situation_is_not_reopened_without_new_petitions(seeded: Runtime) -> None:
    alert_id = _open_alert(seeded)
    from xinfang.alerts.service import resolve_alert
    from xinfang.security.actors import SYSTEM

    with seeded.session() as s:
        resolve_alert(s, actor=SYSTEM, alert_id=alert_id, now=seeded.clock.now(), note="已处置")
    with seeded.session() as s:
        report = run_warning_scan(s, now=seeded.clock.now(), config=CFG)
    assert report.suppressed == 1 and report.opened == 0


def test_petitioners_without_id_number_or_phone_count_as_distinct_people(seeded: Runtime) -> None:
    """One matter in 7 days: two petitions by people who gave only a name, two anonymous hotline calls (no
    petitioner at all) and one with an ID number — five people, a red matter alert."""
    from xinfang.cases.models import Petitioner

    with seeded.session() as s:
        petitions = []
        for k in range(5):
            p = add_petition(s, day=DAY - timedelta(days=k), township="350428103", category="城乡建设")
            if k < 2:
                p.petitioners = [Petitioner(name="张某", is_representative=False)]  # same name, no number
            elif k < 4:
                p.petitioners = []
            if petitions:
                link(s, p, petitions[-1])
            petitions.append(p)
        s.flush()
    with seeded.session() as s:
        run_warning_scan(s, now=seeded.clock.now(), config=CFG)
    with seeded.session() as s:
        alerts = [a for a in s.execute(select(Alert)).scalars() if "matter_rule" in a.methods]
    assert len(alerts) == 1 and alerts[0].tier == "red"
    evidence = alerts[0].evidence["matter_rule"]
    assert evidence["observed"] == 5 and evidence["details"]["distinct_petitioners"] == 5
    assert sorted(evidence["petition_ids"]) == sorted(p.id for p in petitions)
