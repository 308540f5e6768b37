"""The worker polls the platforms every hour by itself (no cron): a status the callback missed is applied by the
scheduled `referrals.poll` job, once per hour however many workers schedule it."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.referrals.conftest import Auth, drain, make_test_worker, refer
from tests.referrals.fakes import FakePlatform
from xinfang.cli.jobs import make_worker
from xinfang.clock import FixedClock
from xinfang.ops.scheduled import REFERRALS_POLL
from xinfang.runtime import Runtime
from xinfang.store.jobs import Job


def _polls(rt: Runtime) -> list[str]:
    with rt.session() as s:
        return list(s.execute(select(Job.state).where(Job.kind == REFERRALS_POLL).order_by(Job.id)).scalars())


def test_the_hourly_poll_job_picks_up_what_a_callback_missed(
    client: TestClient, auth: Auth, new_petition, seeded: Runtime, clock: FixedClock, platforms
) -> None:
    ref = refer(client, auth, new_petition(), "court")
    drain(make_test_worker(seeded), clock)  # delivered: the court has it
    court: FakePlatform = platforms["court"]
    remote = court.remote_by_key[ref["reference"]]
    court.statuses[remote] = {"status": "已立案", "event_id": f"{remote}-e2"}  # its callback never came

    clock.instant = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    workers = [make_worker(seeded), make_worker(seeded)]
    assert [w.schedule_recurring() > 0 for w in workers] == [True, False]
    assert _polls(seeded) == ["pending"]
    assert sum(w.run_until_idle() for w in workers) > 0
    assert _polls(seeded) == ["done"]
    r = client.get(f"/api/referrals/{ref['id']}", headers=auth("clerk"))
    assert r.json()["status"] == "filed"

    clock.advance(minutes=59)  # the same hour: no second poll
    for w in workers:
        w.schedule_recurring()
    assert _polls(seeded) == ["done"]
    clock.advance(minutes=1)  # the next hour: polled again, nothing left to change
    workers[1].schedule_recurring()
    workers[1].run_until_idle()
    assert _polls(seeded) == ["done", "done"]
    assert client.get(f"/api/referrals/{ref['id']}", headers=auth("clerk")).json()["status"] == "filed"
