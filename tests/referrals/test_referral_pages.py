"""访调诉 on the case page, through the real app with a signed-in user: the referral form writes the referral and its
outbox row (the same service as the API), the manual status form records what a platform reported by hand, the
panel shows the delivery state (a dead letter included) and the operator resends it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.referrals.conftest import Auth, drain, make_test_worker, refer
from tests.webui import conftest as webui_fixtures
from xinfang.clock import FixedClock
from xinfang.referrals.models import Referral
from xinfang.runtime import Runtime
from xinfang.security.models import AuditEntry
from xinfang.store.jobs import Job

login = webui_fixtures.login
Login = Callable[[str], str]


def _petitioner_ids(client: TestClient, auth: Auth, pid: int) -> list[str]:
    petition = client.get(f"/api/petitions/{pid}", headers=auth("clerk")).json()
    return [str(p["id"]) for p in petition["petitioners"]]


def _referrals(rt: Runtime, pid: int) -> list[Referral]:
    with rt.session() as s:
        rows = list(s.execute(select(Referral).where(Referral.petition_id == pid)).scalars())
        s.expunge_all()
        return rows


def _delivery_job(rt: Runtime, referral_id: int) -> Job | None:
    with rt.session() as s:
        job = s.execute(
            select(Job).where(Job.dedup_key == f"referral.deliver:{referral_id}")
        ).scalar_one_or_none()
        if job is not None:
            s.expunge(job)
        return job


def _row(page: str, referral_id: int) -> str:
    """The panel's table row of one referral (status, delivery, times, links)."""
    m = re.search(rf'<tr class="referral-row[^"]*" data-referral="{referral_id}">(.*?)</tr>', page, re.S)
    assert m, "referral row missing"
    return m.group(1)


def test_the_referral_form_records_the_referral_and_its_outbox_row(
    client: TestClient, auth: Auth, login: Login, new_petition, seeded: Runtime, clock: FixedClock, platforms
) -> None:
    pid = new_petition()
    token = login("clerk")
    page = client.get(f"/petitions/{pid}").text
    assert "移交调解/诉讼" in page and 'id="referral-form"' in page
    # the choices the service accepts for a registered petition, and the demand summary prefilled
    assert 'value="mediation|诉前调解"' in page and 'value="court|立案"' in page
    assert "工资被拖欠三个月" in page.split('name="demand"')[1].split("</textarea>")[0]
    form = {
        "csrf_token": token,
        "target": "court|立案",
        "consent_method": "书面",
        "consent_given_at": "2026-03-02T09:00",
        "consent_note": "当面签署同意书",
        "demand": "请求判令支付拖欠工资2.3万元",
    }

    assert client.post(f"/petitions/{pid}/referrals", data=form | {"csrf_token": ""}).status_code == 403
    refused = client.post(f"/petitions/{pid}/referrals", data=form)  # no party ticked: consent missing
    assert refused.status_code == 422 and "须经全部信访人" in refused.text
    assert "当面签署同意书" in refused.text  # the form comes back with what was typed
    assert _referrals(seeded, pid) == []

    done = client.post(
        f"/petitions/{pid}/referrals",
        data=form | {"consent_ids": _petitioner_ids(client, auth, pid)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith(f"/petitions/{pid}?done=referral")
    (referral,) = _referrals(seeded, pid)
    assert (referral.platform, referral.kind, referral.status) == ("court", "立案", "pending")
    assert referral.bundle["matter"]["demand"] == "请求判令支付拖欠工资2.3万元"
    assert referral.consent["note"] == "当面签署同意书" and referral.consent["method"] == "书面"
    job = _delivery_job(seeded, referral.id)
    assert job is not None and job.state == "pending" and job.payload == {"referral_id": referral.id}

    page = client.get(done.headers["location"]).text
    assert "已登记移交" in page
    row = _row(page, referral.id)
    assert "法院诉讼服务平台" in row and "待发送" in row and "移交材料(ZIP)" in row
    assert 'id="referral-form"' not in page and "已有进行中的移交" in page  # one open referral at a time
    petition = client.get(f"/api/petitions/{pid}", headers=auth("clerk")).json()
    assert petition["status"] == "diverted"  # the court took the matter: a legal-channel diversion

    drain(make_test_worker(seeded), clock)
    row = _row(client.get(f"/petitions/{pid}").text, referral.id)
    assert "已送达" in row and "送达 " in row
    assert list(platforms["court"].creations.values()) == [1]

    export = client.get(f"/api/referrals/{referral.id}/export")
    assert export.status_code == 200 and export.content[:2] == b"PK"

    login("leader")  # reads the panel; may neither refer, nor record, nor export
    page = client.get(f"/petitions/{pid}").text
    assert "已送达" in _row(page, referral.id)
    assert "移交材料(ZIP)" not in page and "人工记录办理状态" not in page and 'id="referral-form"' not in page


def test_the_manual_status_form_records_what_the_platform_reported(
    client: TestClient, auth: Auth, login: Login, new_petition, seeded: Runtime, clock: FixedClock, platforms
) -> None:
    pid = new_petition("accepted")
    ref = refer(client, auth, pid, "mediation", user="handler_rsj")
    drain(make_test_worker(seeded), clock)
    token = login("handler_rsj")
    page = client.get(f"/petitions/{pid}").text
    assert "人工记录办理状态" in page
    url = f"/petitions/{pid}/referrals/{ref['id']}/status"

    r = client.post(url, data={"csrf_token": token, "status": "调解中"}, follow_redirects=False)
    assert r.status_code == 303 and "done=referral_status" in r.headers["location"]
    r = client.post(
        url,
        data={"csrf_token": token, "status": "调解成功", "note": "双方签订调解协议"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    (referral,) = _referrals(seeded, pid)
    assert referral.status == "mediated" and referral.outcome == "resolved"
    assert referral.outcome_note == "双方签订调解协议"
    petition = client.get(f"/api/petitions/{pid}", headers=auth("clerk")).json()
    assert petition["status"] == "concluded" and petition["outcome"] == "调解成功"
    with seeded.session() as s:
        sources = [h.source for h in s.get(Referral, referral.id).history]  # type: ignore[union-attr]
    assert sources[-2:] == ["manual", "manual"]

    page = client.get(f"/petitions/{pid}").text
    assert "调解成功" in _row(page, referral.id) and "人工记录" in page
    stale = client.post(url, data={"csrf_token": token, "status": "调解中"})  # news older than 调解成功
    assert stale.status_code == 422 and 'role="alert"' in stale.text and "不能变为" in stale.text
    assert client.post(url, data={"status": "已司法确认"}).status_code == 403  # no CSRF token

    token = login("handler_zjj")  # another department cannot see the petition nor its referral
    assert client.post(url, data={"csrf_token": token, "status": "已司法确认"}).status_code == 404
    other = new_petition(seed=7)
    token = login("clerk")  # a referral is reached only through its own petition's page
    assert (
        client.post(
            f"/petitions/{other}/referrals/{ref['id']}/status",
            data={"csrf_token": token, "status": "已司法确认"},
        ).status_code
        == 404
    )
    assert _referrals(seeded, pid)[0].status == "mediated"


class TestADeadLetterOnThePanel:
    @pytest.fixture
    def platform_options(self) -> dict:
        return {"court": {"fail_first": 6}}  # every attempt answers 500 (job_max_attempts is 6)

    def test_the_operator_sees_the_dead_letter_and_resends_it(
        self,
        client: TestClient,
        auth: Auth,
        login: Login,
        new_petition,
        seeded: Runtime,
        clock: FixedClock,
        platforms,
    ) -> None:
        pid = new_petition()
        ref = refer(client, auth, pid, "court")
        drain(make_test_worker(seeded), clock)

        token = login("clerk")
        row = _row(client.get(f"/petitions/{pid}").text, ref["id"])
        assert "失败进入死信" in row and "发送失败" in row and "已尝试 6/6 次" in row
        assert "/resend" not in row and "联系系统管理员" in row  # resending is the operator's (jobs.manage)
        r = client.post(f"/petitions/{pid}/referrals/{ref['id']}/resend", data={"csrf_token": token})
        assert r.status_code == 403

        token = login("admin")
        row = _row(client.get(f"/petitions/{pid}").text, ref["id"])
        assert "失败进入死信" in row and f"/referrals/{ref['id']}/resend" in row
        r = client.post(
            f"/petitions/{pid}/referrals/{ref['id']}/resend",
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 303 and "done=referral_resend" in r.headers["location"]
        job = _delivery_job(seeded, ref["id"])
        assert job is not None and job.state == "pending" and job.attempts == 0
        with seeded.session() as s:
            audited = s.execute(select(AuditEntry).where(AuditEntry.action == "job.retry")).scalars().all()
            assert [a.object_id for a in audited] == [str(job.id)]
        assert "待发送" in _row(client.get(f"/petitions/{pid}").text, ref["id"])

        drain(make_test_worker(seeded), clock)  # the platform is back
        row = _row(client.get(f"/petitions/{pid}").text, ref["id"])
        assert "已送达" in row and "失败进入死信" not in row
        assert list(platforms["court"].creations.values()) == [1]
