"""A dispute in the ledger that later arrives as a petition is linked to its entry: by place + parties, or by matter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.prevention.conftest import LAND_TEXT, OTHER_TOWNSHIP_VILLAGE, OTHER_VILLAGE, VILLAGE, Auth

New = Callable[..., dict[str, Any]]
WAGES = "本人在县城某建筑工地务工,老板拖欠工资三个月共计2.3万元,多次讨要无果,请求帮助追回欠薪。"


def _links(client: TestClient, auth: Auth, entry_id: int) -> list[dict[str, Any]]:
    r = client.get(f"/api/prevention/ledger/{entry_id}", headers=auth("clerk"))
    assert r.status_code == 200, r.text
    return r.json()["linked_petitions"]  # type: ignore[no-any-return]


def test_it_links_by_same_place_and_party(
    client: TestClient, auth: Auth, add_entry: New, new_petition: New
) -> None:
    entry = add_entry()
    p = new_petition(name="李大山", division_code=VILLAGE, title="工资被拖欠", body=WAGES)
    links = _links(client, auth, entry["id"])
    assert [(x["number"], x["kind"]) for x in links] == [(p["number"], "parties")]
    detail = client.get(f"/api/petitions/{p['id']}", headers=auth("clerk")).json()
    assert any(e["kind"] == "ledger_linked" for e in detail["events"])


def test_it_links_by_the_same_matter(
    client: TestClient, auth: Auth, add_entry: New, new_petition: New
) -> None:
    entry = add_entry()
    body = "我叫赵某某。" + LAND_TEXT + "村委会调解两次未果,请求县里处理。"
    p = new_petition(name="赵某某", division_code=OTHER_VILLAGE, title="承包地界桩被移动", body=body)
    assert [(x["number"], x["kind"]) for x in _links(client, auth, entry["id"])] == [(p["number"], "matter")]


def test_same_party_and_matter_is_both(
    client: TestClient, auth: Auth, add_entry: New, new_petition: New
) -> None:
    entry = add_entry()
    new_petition(name="王小河", division_code=VILLAGE, title="界桩纠纷", body=LAND_TEXT)
    assert [x["kind"] for x in _links(client, auth, entry["id"])] == ["both"]


def test_a_different_place_or_party_does_not_link(
    client: TestClient, auth: Auth, add_entry: New, new_petition: New
) -> None:
    entry = add_entry()
    new_petition(
        name="李大山", division_code=OTHER_TOWNSHIP_VILLAGE, title="工资被拖欠", body=WAGES
    )  # other township
    new_petition(name="李大山", division_code=OTHER_VILLAGE, title="工资被拖欠", body=WAGES)  # other village
    new_petition(name="孙无关", division_code=VILLAGE, title="工资被拖欠", body=WAGES)  # other person
    new_petition(
        name="李大山", division_code=OTHER_TOWNSHIP_VILLAGE, title="界桩", body=LAND_TEXT
    )  # other township
    assert _links(client, auth, entry["id"]) == []


def test_an_entry_screened_after_the_petition_does_not_link(
    client: TestClient, auth: Auth, add_entry: New, new_petition: New
) -> None:
    entry = add_entry(screened_on="2026-03-03", due_on="2026-03-20")  # the clock is at 2026-03-02
    new_petition(name="李大山", division_code=VILLAGE)
    assert _links(client, auth, entry["id"]) == []


def test_failures_show_where_early_resolution_failed(
    client: TestClient, auth: Auth, add_entry: New, new_petition: New
) -> None:
    entry = add_entry()
    p = new_petition(name="李大山", division_code=VILLAGE)
    r = client.get("/api/prevention/failures", headers=auth("leader"))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["total"] == 1 and data["items"][0]["entry_id"] == entry["id"]
    assert (
        data["items"][0]["petition_number"] == p["number"] and data["items"][0]["days_after_screening"] == 20
    )
    assert data["by_township"] == [
        {"township_code": "350428101", "township": "万安镇", "petitions": 1, "entries": 1}
    ]
    # A department without ledger entries sees none of them.
    assert client.get("/api/prevention/failures", headers=auth("handler_zjj")).json()["total"] == 0
