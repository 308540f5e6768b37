"""Enrichment after intake: queued with the petition, run by the worker, idempotent, and right in any order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.dispatch.conftest import Post
from tests.factories import fake_id_number, petition_payload
from xinfang.cases.models import Petition
from xinfang.dispatch.models import PetitionLink
from xinfang.hotspots.models import HotMatterMember
from xinfang.intake.enrichment import ENRICH_JOB, enrich
from xinfang.runtime import Runtime
from xinfang.store.jobs import Job

WAGES = "本人在县城某建筑工地务工,老板拖欠工资三个月共计2.3万元,多次讨要无果,请求帮助追回欠薪。"
WAGES_AGAIN = "本人在县城某建筑工地务工,老板拖欠工资三个月共计2.3万元,多次讨要都没有结果,请求帮助追回欠薪!"
ROAD = "通往村里的水泥路塌陷了一大段,雨天车辆无法通行,村民出行困难,请求尽快修复。"


def _links(rt: Runtime) -> list[tuple[int, int, str]]:
    with rt.session() as s:
        rows = s.execute(select(PetitionLink.petition_id, PetitionLink.earlier_id, PetitionLink.kind))
        return sorted((a, b, k) for a, b, k in rows)


def _enrich(rt: Runtime, petition_id: int) -> bool:
    with rt.session() as s:
        petition = s.get(Petition, petition_id)
        assert petition is not None
        return enrich(s, petition=petition, now=rt.clock.now())


def test_intake_queues_the_enrichment_and_the_worker_runs_it(
    seeded: Runtime, post_petition: Post, run_jobs: Callable[[], int]
) -> None:
    phone = "13912345678"
    first = post_petition(title="欠薪", body=WAGES, phone=phone)
    second = post_petition(title="道路", body=ROAD, phone=phone)
    with seeded.session() as s:
        jobs = s.execute(select(Job.kind, Job.payload, Job.state).where(Job.kind == ENRICH_JOB)).all()
        assert sorted(j.payload["petition_id"] for j in jobs) == [first["id"], second["id"]]
        assert {j.state for j in jobs} == {"pending"}
        assert s.get(Petition, second["id"]).enriched_at is None  # type: ignore[union-attr]
    assert _links(seeded) == []  # nothing is compared inside the request
    assert run_jobs() == 2
    assert _links(seeded) == [(second["id"], first["id"], "same_person")]
    with seeded.session() as s:
        assert s.get(Petition, second["id"]).enriched_at is not None  # type: ignore[union-attr]
        assert s.get(HotMatterMember, second["id"]) is not None


def test_a_retried_job_changes_nothing(
    seeded: Runtime, post_petition: Post, run_jobs: Callable[[], int]
) -> None:
    phone = "13911112222"
    post_petition(title="欠薪", body=WAGES, phone=phone)
    second = post_petition(title="欠薪", body=WAGES_AGAIN, phone=phone)
    run_jobs()
    before = _links(seeded)
    assert len(before) == 1
    assert _enrich(seeded, second["id"]) is False  # a worker that died after committing: the retry is a no-op
    assert _links(seeded) == before


def test_jobs_taken_out_of_order_link_both_ways_exactly_once(seeded: Runtime, post_petition: Post) -> None:
    """Two workers, or a retry, may enrich a later petition first. The same matter (text, found only once both
    are indexed) and the same person (found from either side) each end as one link from later to earlier."""
    a = post_petition(title="工资被拖欠", body=WAGES, phone="13900000001")
    b = post_petition(title="工资被拖欠", body=WAGES_AGAIN, phone="13900000002")  # same matter, other person
    c = post_petition(title="道路", body=ROAD, phone="13900000001")  # the same person as a
    assert _enrich(seeded, c["id"]) and _enrich(seeded, b["id"])
    assert _links(seeded) == [
        (c["id"], a["id"], "same_person")
    ]  # a is not indexed yet: only its person is known
    assert _enrich(seeded, a["id"])
    assert _links(seeded) == [(b["id"], a["id"], "same_matter"), (c["id"], a["id"], "same_person")]


def test_a_repeat_of_a_final_matter_is_recognised_inside_the_request(
    client: TestClient, auth: Callable[[str], dict[str, str]], seeded: Runtime
) -> None:
    """三级终结 decides the route, so it cannot wait for the worker: the earlier petition, re-reviewed, is found
    at once and the new one is not forwarded automatically."""
    id_number = fake_id_number(seed=3)
    body: dict[str, Any] = petition_payload(title="欠薪", body=WAGES, id_number=id_number)
    first = client.post("/api/petitions", json=body, headers=auth("clerk")).json()
    with seeded.session() as s:
        s.get(Petition, first["id"]).status = "recheck_replied"  # type: ignore[union-attr]
    again = petition_payload(title="欠薪", body=WAGES_AGAIN, id_number=id_number)
    r = client.post("/api/petitions", json=again, headers=auth("clerk"))
    assert r.status_code == 201, r.text
    detail = client.get(f"/api/petitions/{r.json()['id']}", headers=auth("clerk")).json()
    assert "repeat_of_final" in [e["kind"] for e in detail["events"]]
    other = petition_payload(title="道路", body=ROAD, id_number=id_number)  # same person, another matter
    r = client.post("/api/petitions", json=other, headers=auth("clerk"))
    detail = client.get(f"/api/petitions/{r.json()['id']}", headers=auth("clerk")).json()
    assert "repeat_of_final" not in [e["kind"] for e in detail["events"]]
