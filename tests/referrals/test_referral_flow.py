"""访调诉 end to end through the API, the outbox worker and real HTTP servers standing in for the platforms."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.referrals.conftest import Auth, consent_for, drain, make_test_worker, refer
from tests.referrals.fakes import FakePlatform
from xinfang.clock import FixedClock
from xinfang.referrals.service import DELIVER_JOB
from xinfang.runtime import Runtime
from xinfang.security.models import AuditEntry
from xinfang.store.jobs import Job


def _petition(client: TestClient, auth: Auth, pid: int) -> dict:
    return client.get(f"/api/petitions/{pid}", headers=auth("clerk")).json()


def _referral(client: TestClient, auth: Auth, rid: int) -> dict:
    r = client.get(f"/api/referrals/{rid}", headers=auth("clerk"))
    assert r.status_code == 200, r.text
    return r.json()


def test_a_court_referral_diverts_the_petition_and_its_outcome_concludes_it(
    client: TestClient, auth: Auth, new_petition, seeded: Runtime, clock: FixedClock, platforms
) -> None:
    pid = new_petition()
    ref = refer(client, auth, pid, "court", "立案")
    assert ref["status"] == "pending" and ref["delivery"] == "outbox"
    petition = _petition(client, auth, pid)
    assert petition["status"] == "diverted"
    assert any(
        e["kind"] == "divert" for e in petition["events"]
    )  # the 导入法定途径告知书 step, same transaction
    assert any(e["kind"] == "referral" for e in petition["events"])

    drain(make_test_worker(seeded), clock)
    court: FakePlatform = platforms["court"]
    assert list(court.creations.values()) == [1] and court.bad_signatures == 0
    sent = court.bundles[ref["reference"]]
    assert sent["kind"] == "立案" and sent["parties"][0]["phone"] == "13800000000"  # consented hand-over
    assert "id_number_masked" not in sent["parties"][0]
    assert _referral(client, auth, ref["id"])["status"] == "sent"

    for status in ("已受理", "已立案"):
        body, headers = court.callback_request(ref["reference"], status)
        r = court.send(client, body, headers)
        assert r.status_code == 200 and r.json()["result"] == "applied", r.text
    assert _referral(client, auth, ref["id"])["outcome"] == "filed"
    assert _petition(client, auth, pid)["status"] == "concluded"


def test_mediation_pauses_the_clocks_and_a_failure_resumes_them_later(
    client: TestClient, auth: Auth, new_petition, seeded: Runtime, clock: FixedClock, platforms
) -> None:
    pid = new_petition("accepted")

    def handle_clocks() -> list[dict]:
        from xinfang.cases.models import Clock

        with seeded.session() as s:
            rows = s.execute(select(Clock).where(Clock.petition_id == pid, Clock.rule == "handle")).scalars()
            return [
                {"closed_on": c.closed_on, "due_on": c.due_on.isoformat(), "by": c.closed_by_action}
                for c in rows
            ]

    before = [c for c in handle_clocks() if c.get("closed_on") is None]
    assert len(before) == 1
    ref = refer(client, auth, pid, "mediation", user="handler_rsj")
    assert _petition(client, auth, pid)["status"] == "accepted"  # mediation runs beside the petition
    assert all(c.get("closed_on") for c in handle_clocks())  # paused
    drain(make_test_worker(seeded), clock)

    clock.advance(days=10)
    med: FakePlatform = platforms["mediation"]
    body, headers = med.callback_request(ref["reference"], "调解失败", outcome="对方不同意调解")
    assert med.send(client, body, headers).json()["result"] == "applied"
    reopened = [c for c in handle_clocks() if c.get("closed_on") is None]
    assert len(reopened) == 1
    from datetime import date, timedelta

    assert date.fromisoformat(reopened[0]["due_on"]) >= date.fromisoformat(before[0]["due_on"]) + timedelta(
        days=10
    )
    notes = client.get("/api/notifications", headers=auth("handler_rsj")).json()
    assert any("请继续办理" in n["message"] for n in notes)
    # failure leaves the way onward open: the matter can now go to the court (once diversion is lawful)
    assert _referral(client, auth, ref["id"])["outcome"] == "failed"


def test_mediation_success_concludes_the_petition_with_its_outcome(
    client: TestClient, auth: Auth, new_petition, seeded: Runtime, clock: FixedClock, platforms
) -> None:
    pid = new_petition()
    ref = refer(client, auth, pid, "mediation")
    drain(make_test_worker(seeded), clock)
    med: FakePlatform = platforms["mediation"]
    for status in ("调解中", "调解成功", "已司法确认"):
        body, headers = med.callback_request(ref["reference"], status, outcome="双方达成调解协议")
        assert med.send(client, body, headers).status_code == 200
    petition = _petition(client, auth, pid)
    assert petition["status"] == "concluded" and petition["outcome"] == "调解成功"
    assert [e["kind"] for e in petition["events"]].count("settle") == 1
    assert _referral(client, auth, ref["id"])["status"] == "confirmed"
    # a late, older status changes nothing
    body, headers = med.callback_request(ref["reference"], "调解中")
    assert med.send(client, body, headers).json()["result"] == "stale"


def test_settle_is_refused_without_a_recorded_agreement(client: TestClient, auth: Auth, new_petition) -> None:
    pid = new_petition()
    r = client.post(f"/api/petitions/{pid}/actions/settle", json={"agreement": "x"}, headers=auth("clerk"))
    assert r.status_code == 409 and r.json()["detail"]["code"] == "workflow.no_mediation_agreement"


def test_the_same_callback_twice_is_recorded_once(
    client: TestClient, auth: Auth, new_petition, seeded: Runtime, clock: FixedClock, platforms
) -> None:
    pid = new_petition()
    ref = refer(client, auth, pid, "mediation")
    drain(make_test_worker(seeded), clock)
    med: FakePlatform = platforms["mediation"]
    body, headers = med.callback_request(ref["reference"], "调解中", event_id="evt-1")
    assert med.send(client, body, headers).json()["result"] == "applied"
    replay = med.send(client, body, headers)  # byte for byte the same request: a replay
    assert replay.status_code == 409 and replay.json()["detail"]["code"] == "referral.callback_replay"
    body2, headers2 = med.callback_request(ref["reference"], "调解中", event_id="evt-1")  # a re-signed retry
    assert med.send(client, body2, headers2).json()["result"] == "duplicate"
    history = _referral(client, auth, ref["id"])["history"]
    assert [h["status"] for h in history].count("mediating") == 1
    events = _petition(client, auth, pid)["events"]
    assert sum(1 for e in events if e["kind"] == "referral.status" and "调解中" in e["summary"]) == 1


def test_a_forged_callback_changes_nothing_and_is_audited(
    client: TestClient, auth: Auth, new_petition, seeded: Runtime, clock: FixedClock, platforms
) -> None:
    pid = new_petition()
    ref = refer(client, auth, pid, "mediation")
    drain(make_test_worker(seeded), clock)
    med: FakePlatform = platforms["mediation"]
    before = _referral(client, auth, ref["id"])
    body, headers = med.callback_request(ref["reference"], "调解成功", secret="not-the-shared-secret-000")
    r = med.send(client, body, headers)
    assert r.status_code == 401 and r.json()["detail"]["code"] == "referral.callback_bad_signature"
    # tampering with a correctly signed body is a bad signature too
    body, headers = med.callback_request(ref["reference"], "调解中")
    r = med.send(client, body.replace("调解中".encode(), "调解成功".encode()), headers)
    assert r.status_code == 401
    # a correctly signed but old request is a replay; an unknown reference is 404
    body, headers = med.callback_request(
        ref["reference"], "调解成功", timestamp=int(clock.now().timestamp()) - 3600
    )
    assert med.send(client, body, headers).status_code == 409
    body, headers = med.callback_request("xf-unknown", "调解成功")
    assert med.send(client, body, headers).status_code == 404
    after = _referral(client, auth, ref["id"])
    assert after["status"] == before["status"] == "sent" and after["history"] == before["history"]
    assert _petition(client, auth, pid)["status"] == "registered"
    with seeded.session() as s:
        reasons = [
            e.details["reason"]
            for e in s.execute(
                select(AuditEntry).where(AuditEntry.action == "referral.callback_rejected")
            ).scalars()
        ]
        assert "张测试" not in json.dumps(reasons, ensure_ascii=False)
    assert reasons == [
        "referral.callback_bad_signature",
        "referral.callback_bad_signature",
        "referral.callback_replay",
        "referral.callback_unknown_referral",
    ]


class TestAFlakyPlatform:
    @pytest.fixture
    def platform_options(self) -> dict:
        return {"court": {"fail_first": 3}, "mediation": {"slow_first": 2, "slow_seconds": 3.0}}

    def test_500s_are_retried_with_back_off_and_the_referral_arrives_once(
        self, client: TestClient, auth: Auth, new_petition, seeded: Runtime, clock: FixedClock, platforms
    ) -> None:
        ref = refer(client, auth, new_petition(), "court")
        worker = make_test_worker(seeded)
        assert worker.run_one()
        with seeded.session() as s:
            job = s.execute(select(Job).where(Job.kind == DELIVER_JOB)).scalar_one()
            assert job.state == "pending" and job.attempts == 1 and job.next_attempt_at > clock.now()
            assert "remote_unavailable" in (job.last_error or "")
        assert not worker.run_one()  # not due yet: back-off
        drain(worker, clock)
        court: FakePlatform = platforms["court"]
        assert court.posts[ref["reference"]] == 4 and court.creations[ref["reference"]] == 1
        with seeded.session() as s:
            job = s.execute(select(Job).where(Job.kind == DELIVER_JOB)).scalar_one()
            assert job.state == "done" and job.attempts == 4
        assert _referral(client, auth, ref["id"])["status"] == "sent"

    def test_a_platform_that_answers_too_late_still_gets_the_referral_once(
        self, client: TestClient, auth: Auth, new_petition, seeded: Runtime, clock: FixedClock, platforms
    ) -> None:
        refs = [refer(client, auth, new_petition(seed=i), "mediation") for i in (1, 2)]
        drain(make_test_worker(seeded), clock)
        med: FakePlatform = platforms["mediation"]
        assert sorted(med.creations.values()) == [
            1,
            1,
        ]  # the late answers were lost, the work was not repeated
        assert sum(med.posts.values()) >= 4
        for ref in refs:
            assert _referral(client, auth, ref["id"])["status"] == "sent"


class TestADeadPlatform:
    @pytest.fixture
    def platform_options(self) -> dict:
        return {"court": {"fail_first": 6}}

    def test_after_the_last_attempt_the_job_is_dead_lettered_visible_and_can_be_retried(
        self, client: TestClient, auth: Auth, new_petition, seeded: Runtime, clock: FixedClock, platforms
    ) -> None:
        ref = refer(client, auth, new_petition(), "court")
        drain(make_test_worker(seeded), clock)
        assert _referral(client, auth, ref["id"])["status"] == "delivery_failed"
        assert client.get("/api/jobs", headers=auth("clerk")).status_code == 403
        dead = client.get("/api/jobs?state=dead", headers=auth("admin")).json()
        assert dead["counts"]["dead"] == 1 and dead["jobs"][0]["attempts"] == 6
        r = client.post(f"/api/jobs/{dead['jobs'][0]['id']}/retry", headers=auth("admin"))
        assert r.status_code == 200 and r.json()["state"] == "pending"
        drain(make_test_worker(seeded), clock)  # the platform has recovered
        assert _referral(client, auth, ref["id"])["status"] == "sent"
        assert platforms["court"].creations[ref["reference"]] == 1


class TestManualFallback:
    @pytest.fixture
    def runtime(self, db_url, tmp_path, clock):  # type: ignore[no-untyped-def]
        from tests.conftest import make_settings

        rt = Runtime(settings=make_settings(db_url, tmp_path), clock=clock)  # no platform API configured
        yield rt
        rt.dispose()

    def test_without_an_api_the_bundle_is_exported_and_statuses_recorded_by_hand(
        self, client: TestClient, auth: Auth, new_petition, seeded: Runtime
    ) -> None:
        pid = new_petition()
        png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
        att = client.post(
            f"/api/petitions/{pid}/attachments", files={"file": ("欠条.png", png)}, headers=auth("clerk")
        ).json()
        ref = refer(client, auth, pid, "mediation", evidence_ids=[att["id"]])
        assert ref["status"] == "manual" and ref["evidence_count"] == 1
        with seeded.session() as s:
            assert s.execute(select(Job).where(Job.kind == DELIVER_JOB)).first() is None
        z = client.get(f"/api/referrals/{ref['id']}/export", headers=auth("clerk"))
        assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(z.content)) as zf:
            bundle = json.loads(zf.read("bundle.json"))
            assert zf.read(bundle["evidence"][0]["path"]) == png
        assert bundle["reference"] == ref["reference"] and bundle["consent"]["method"] == "书面"
        assert client.get(f"/api/referrals/{ref['id']}/export", headers=auth("leader")).status_code == 403
        r = client.post(
            f"/api/referrals/{ref['id']}/status",
            json={"status": "调解成功", "note": "达成协议", "remote_id": "TJ-2026-001"},
            headers=auth("clerk"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["referral"]["remote_id"] == "TJ-2026-001"
        assert _petition(client, auth, pid)["status"] == "concluded"


def test_consent_is_required_from_every_petitioner(client: TestClient, auth: Auth, new_petition) -> None:
    pid = new_petition()
    consent = consent_for(client, auth, pid) | {"petitioner_ids": []}
    r = client.post(
        f"/api/petitions/{pid}/referrals",
        json={"platform": "mediation", "kind": "诉前调解", "consent": consent},
        headers=auth("clerk"),
    )
    assert r.status_code == 422 and r.json()["detail"]["code"] == "referral.consent_parties"
    r = client.post(
        f"/api/petitions/{pid}/referrals",
        json={"platform": "mediation", "kind": "立案", "consent": consent_for(client, auth, pid)},
        headers=auth("clerk"),
    )
    assert r.status_code == 422 and r.json()["detail"]["code"] == "referral.kind_not_for_platform"


def test_a_petition_is_not_referred_twice_at_once(client: TestClient, auth: Auth, new_petition) -> None:
    pid = new_petition()
    refer(client, auth, pid, "mediation")
    r = client.post(
        f"/api/petitions/{pid}/referrals",
        json={"platform": "mediation", "kind": "诉前调解", "consent": consent_for(client, auth, pid)},
        headers=auth("clerk"),
    )
    assert r.status_code == 409 and r.json()["detail"]["code"] == "referral.already_open"


def test_polling_picks_up_what_a_callback_missed(
    client: TestClient, auth: Auth, new_petition, seeded: Runtime, clock: FixedClock, platforms
) -> None:
    from xinfang.referrals.adapters import adapter_factory
    from xinfang.referrals.service import poll

    ref = refer(client, auth, new_petition(), "court")
    drain(make_test_worker(seeded), clock)
    court: FakePlatform = platforms["court"]
    remote = court.remote_by_key[ref["reference"]]
    court.statuses[remote] = {"status": "已立案", "event_id": f"{remote}-e2"}
    adapters = adapter_factory(seeded.settings.referral_platforms, now=clock.now)
    counts = poll(seeded.sessions, adapters=adapters, now=clock.now, ctx=seeded.procedure)
    assert counts["applied"] == 1
    assert _referral(client, auth, ref["id"])["status"] == "filed"
    assert poll(seeded.sessions, adapters=adapters, now=clock.now, ctx=seeded.procedure)["checked"] == 0


def test_stats_count_referrals_by_platform_status_and_outcome(
    client: TestClient, auth: Auth, new_petition, seeded: Runtime, clock: FixedClock, platforms
) -> None:
    a = refer(client, auth, new_petition(seed=1), "mediation")
    b = refer(client, auth, new_petition(seed=2), "court", "立案")
    drain(make_test_worker(seeded), clock)
    med: FakePlatform = platforms["mediation"]
    body, headers = med.callback_request(a["reference"], "调解失败")
    med.send(client, body, headers)
    r = client.get("/api/referrals/stats?from=2026-03-01&to=2026-04-01", headers=auth("leader"))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["total"] == 2 and data["by_platform"] == {"mediation": 1, "court": 1}
    assert data["by_outcome"] == {"failed": 1, "open": 1}
    assert data["by_status"] == {"mediation_failed": 1, "sent": 1}
    empty = client.get("/api/referrals/stats?from=2026-05-01", headers=auth("leader")).json()
    assert empty["total"] == 0
    assert client.get("/api/referrals/stats", headers=auth("handler_rsj")).status_code == 403
    # A township's user counts only the referrals of that township's petitions.
    from xinfang.cases.enums import OrgKind, Role
    from xinfang.cases.models import Petition
    from xinfang.referrals.service import stats
    from xinfang.security.actors import Actor

    with seeded.session() as s:
        s.get(Petition, a["petition_id"]).township_code = "350428101"  # type: ignore[union-attr]
        s.get(Petition, b["petition_id"]).township_code = "350428102"  # type: ignore[union-attr]
    with seeded.session() as s:

        def township_user(code: str) -> Actor:
            return Actor(user_id=999, username="t", role=Role.LEADER, org_unit_id=-1, org_code=code,
                         org_kind=OrgKind.TOWNSHIP)  # fmt: skip

        assert stats(s, actor=township_user("350428101"), start=None, end=None)["by_platform"] == {
            "mediation": 1
        }
        assert stats(s, actor=township_user("350428103"), start=None, end=None)["total"] == 0


def test_a_callback_that_is_not_even_json_is_refused_as_unsigned_first(client: TestClient, platforms) -> None:
    r = client.post(
        "/api/referrals/callback/mediation", content=b"not json", headers={"X-Xinfang-Nonce": "x" * 16}
    )
    assert r.status_code == 401 and r.json()["detail"]["code"] == "referral.callback_unsigned"
    assert client.post("/api/referrals/callback/elsewhere", content=b"{}").status_code == 404
