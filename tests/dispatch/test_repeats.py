"""Repeat detection at intake: same person (blind index, or name + village), same matter (near-duplicate text)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.dispatch.conftest import Post
from tests.factories import fake_id_number
from xinfang.cases.models import Event
from xinfang.dispatch.models import PetitionBand, PetitionLink
from xinfang.dispatch.repeats import band_keys, hasher
from xinfang.runtime import Runtime
from xinfang.text.similarity import BANDS, SimilarityIndex

Auth = Callable[[str], dict[str, str]]
WAGES = "本人在县城某建筑工地务工,老板拖欠工资三个月共计2.3万元,多次讨要无果,请求帮助追回欠薪。"
WAGES_AGAIN = "本人在县城某建筑工地务工,老板拖欠工资三个月共计2.3万元,多次讨要都没有结果,请求帮助追回欠薪!"
SCHOOL = "学校食堂饭菜价格上涨明显,学生家长反映分量不足,希望教育部门核查食堂收费是否合理。"
ROAD = "通往村里的水泥路塌陷了一大段,雨天车辆无法通行,村民出行困难,请求尽快修复。"
WANAN_VILLAGE = {"division_code": "350428101201"}
GAOTANG_VILLAGE = {"division_code": "350428102201"}


Links = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def links(client: TestClient, auth: Auth, run_jobs: Callable[[], int]) -> Links:
    """A petition's links once the enrichment jobs queued by intake have run (as the worker would)."""

    def get(petition_id: int, user: str = "clerk") -> list[dict[str, Any]]:
        run_jobs()
        r = client.get(f"/api/petitions/{petition_id}/links", headers=auth(user))
        assert r.status_code == 200, r.text
        return r.json()["items"]  # type: ignore[no-any-return]

    return get


def test_the_same_person_is_recognised_by_id_number(
    client: TestClient, auth: Auth, post_petition: Post, links: Links
) -> None:
    id_number = fake_id_number(seed=7)
    first = post_petition(title="欠薪", body=WAGES, id_number=id_number)
    second = post_petition(title="孩子学校食堂", body=SCHOOL, id_number=id_number)
    [link] = links(second["id"])
    assert link["petition_id"] == first["id"] and link["direction"] == "earlier"
    assert link["kind"] == "same_person" and [r["code"] for r in link["reasons"]] == ["same_id_number"]
    assert 0 <= link["similarity"] < 0.5
    assert id_number not in str(link)
    events = {
        e["kind"]: e
        for e in client.get(f"/api/petitions/{second['id']}", headers=auth("clerk")).json()["events"]
    }
    assert events["repeat_linked"]["details"]["links"][0]["earlier_id"] == first["id"]


def test_the_same_person_is_recognised_by_phone(
    client: TestClient, auth: Auth, post_petition: Post, links: Links
) -> None:
    first = post_petition(title="欠薪", body=WAGES, phone="13912345678")
    second = post_petition(title="道路", body=ROAD, phone="139 1234 5678")
    [link] = links(second["id"])
    assert link["petition_id"] == first["id"] and [r["code"] for r in link["reasons"]] == ["same_phone"]


def test_the_same_name_in_the_same_village_is_the_same_person(
    client: TestClient, auth: Auth, post_petition: Post, links: Links
) -> None:
    first = post_petition(title="欠薪", body=WAGES, location=WANAN_VILLAGE)
    elsewhere = post_petition(title="学校", body=SCHOOL, location=GAOTANG_VILLAGE)  # same name, other village
    second = post_petition(title="道路", body=ROAD, location=WANAN_VILLAGE)
    [link] = links(second["id"])
    assert link["petition_id"] == first["id"]
    assert [r["code"] for r in link["reasons"]] == ["same_name_village", "same_place"]
    assert links(elsewhere["id"]) == []


def test_a_near_duplicate_text_from_another_person_is_the_same_matter(
    client: TestClient, auth: Auth, post_petition: Post, links: Links
) -> None:
    first = post_petition(title="工资被拖欠三个月", body=WAGES, phone="13900000001", location=WANAN_VILLAGE)
    body = petition_payload_name("李另人", title="工资被拖欠三个月", body=WAGES_AGAIN, location=WANAN_VILLAGE)
    r = client.post("/api/petitions", json=body, headers=auth("clerk"))
    assert r.status_code == 201, r.text
    [link] = links(r.json()["id"])
    assert link["petition_id"] == first["id"] and link["kind"] == "same_matter"
    assert link["similarity"] >= 0.5
    assert [x["code"] for x in link["reasons"]] == ["similar_text", "same_place"]
    later = links(first["id"])
    assert [(x["petition_id"], x["direction"]) for x in later] == [(r.json()["id"], "later")]


def test_an_unrelated_petition_is_not_linked(
    seeded: Runtime, client: TestClient, auth: Auth, post_petition: Post, links: Links
) -> None:
    post_petition(title="欠薪", body=WAGES, id_number=fake_id_number(seed=1))
    other = client.post(
        "/api/petitions",
        json=petition_payload_name("王无关", title="道路塌陷", body=ROAD, id_number=fake_id_number(seed=2)),
        headers=auth("clerk"),
    ).json()
    assert links(other["id"]) == []
    with seeded.session() as s:
        assert s.execute(select(func.count()).select_from(PetitionLink)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(PetitionBand)).scalar_one() == 2 * BANDS
        assert "repeat_linked" not in s.execute(select(Event.kind)).scalars().all()


def test_links_show_only_petitions_the_reader_may_see(
    client: TestClient, auth: Auth, post_petition: Post, links: Links
) -> None:
    phone = "13811112222"
    in_wanan = post_petition(title="欠薪", body=WAGES, phone=phone, location=WANAN_VILLAGE)
    in_gaotang = post_petition(title="道路", body=ROAD, phone=phone, location=GAOTANG_VILLAGE)
    assert [x["petition_id"] for x in links(in_wanan["id"])] == [in_gaotang["id"]]
    assert links(in_wanan["id"], user="township_wa") == []  # 高唐镇's petition is not theirs
    r = client.get(f"/api/petitions/{in_gaotang['id']}/links", headers=auth("township_wa"))
    assert r.status_code == 404


def test_band_keys_cut_the_signature_like_the_in_memory_index() -> None:
    """Equal band keys exactly where SimilarityIndex would put two texts in the same bucket."""
    index = SimilarityIndex()
    a, b = hasher().signature(WAGES), hasher().signature(WAGES_AGAIN)
    same_bucket = [x == y for x, y in zip(index._keys(a), index._keys(b), strict=True)]
    assert [x == y for x, y in zip(band_keys(a), band_keys(b), strict=True)] == same_bucket
    assert any(same_bucket) and len(set(band_keys(a))) == BANDS


def petition_payload_name(name: str, **kwargs: Any) -> dict[str, Any]:
    from tests.factories import petition_payload

    payload = petition_payload(**kwargs)
    payload["petitioners"][0]["name"] = name
    return payload
