"""`xinfang worker` as real processes against a file database: killed mid-delivery (SIGKILL) and restarted, and two
workers at once. The fake platform counts creations per idempotency key: each referral must arrive exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import TEST_KEY
from tests.referrals.conftest import Auth, refer
from tests.referrals.fakes import WAIT, FakePlatform, wait_for
from xinfang.referrals.models import Referral
from xinfang.runtime import Runtime

XINFANG = Path(sys.executable).with_name("xinfang")


def _env(rt: Runtime, *, lease: float) -> dict[str, str]:
    s = rt.settings
    platforms = {k: v.model_dump() for k, v in s.referral_platforms.items()}
    return os.environ | {
        "XINFANG_DATABASE_URL": s.database_url,
        "XINFANG_DATA_KEY": TEST_KEY,
        "XINFANG_ATTACHMENTS_DIR": str(s.attachments_dir),
        "XINFANG_DISPATCH_ENABLED": "false",
        "XINFANG_REFERRAL_PLATFORMS": json.dumps(platforms),
        "XINFANG_JOB_LEASE_SECONDS": str(lease),
        "XINFANG_WORKER_POLL_SECONDS": "0.2",
    }


class Workers:
    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env, self.tmp, self.procs = env, tmp, []  # type: ignore[var-annotated]

    def start(self) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"worker{len(self.procs)}.log", "wb")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen([str(XINFANG), "worker"], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=WAIT)


@pytest.fixture
def workers_factory(tmp_path: Path) -> Iterator[list[Workers]]:
    made: list[Workers] = []
    yield made
    for w in made:
        w.stop_all()


def _statuses(rt: Runtime) -> dict[str, str]:
    with rt.session() as s:
        return {r.idempotency_key: r.status for r in s.execute(select(Referral)).scalars()}


class TestCrash:
    @pytest.fixture
    def platform_options(self) -> dict:
        return {"court": {"hold_first": True}}

    def test_a_worker_killed_mid_delivery_is_replaced_and_the_referral_arrives_once(
        self,
        client: TestClient,
        auth: Auth,
        new_petition,
        seeded: Runtime,
        platforms,
        workers_factory,
        tmp_path,
    ) -> None:
        ref = refer(client, auth, new_petition(), "court")
        court: FakePlatform = platforms["court"]
        workers = Workers(_env(seeded, lease=2.0), tmp_path)
        workers_factory.append(workers)

        first = workers.start()
        assert court.holding.wait(WAIT), "the worker never reached the platform"
        first.send_signal(
            signal.SIGKILL
        )  # mid-delivery: the platform has the referral, the worker never hears
        assert first.wait(timeout=WAIT) == -signal.SIGKILL
        assert _statuses(seeded)[ref["reference"]] == "pending"

        second = workers.start()
        wait_for(lambda: _statuses(seeded)[ref["reference"]] == "sent", what="delivery after restart")
        second.send_signal(signal.SIGTERM)  # finishes its current job, then exits cleanly
        assert second.wait(timeout=WAIT) == 0
        assert court.creations[ref["reference"]] == 1  # delivered after restart, not duplicated
        assert court.posts[ref["reference"]] == 2  # the retry carried the same idempotency key
        with seeded.session() as s:
            referral = s.execute(select(Referral)).scalar_one()
            assert referral.remote_id == court.remote_by_key[ref["reference"]]


def test_two_workers_at_once_never_deliver_twice(
    client: TestClient, auth: Auth, new_petition, seeded: Runtime, platforms, workers_factory, tmp_path
) -> None:
    keys = [
        refer(client, auth, new_petition(seed=i), ("mediation", "court")[i % 2])["reference"]
        for i in range(12)
    ]
    workers = Workers(_env(seeded, lease=60.0), tmp_path)
    workers_factory.append(workers)
    procs = [workers.start(), workers.start()]
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    wait_for(lambda: all("started" in log.read_text(errors="ignore") for log in logs), what="both workers up")
    wait_for(lambda: set(_statuses(seeded).values()) == {"sent"}, what="all referrals delivered")
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    assert [proc.wait(timeout=WAIT) for proc in procs] == [0, 0]
    posts = platforms["mediation"].posts + platforms["court"].posts
    assert sorted(posts) == sorted(keys) and set(posts.values()) == {1}  # one request per referral, no more
    creations = platforms["mediation"].creations + platforms["court"].creations
    assert set(creations.values()) == {1} and len(creations) == 12
