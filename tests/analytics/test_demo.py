"""The demo county shows a populated heat map, hot matters and key petitioners, and every outside feed."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from xinfang.demo.loader import load_demo
from xinfang.runtime import Runtime

Auth = Callable[[str], dict[str, str]]


def test_the_demo_populates_the_analytics(seeded: Runtime, client: TestClient, auth: Auth) -> None:
    result = load_demo(seeded, scale=0.15)
    assert set(result["feeds_added"]) == {"12345", "grid", "110", "zjj", "rsj", "scjgj"}
    heat = client.get("/api/analytics/heatmap?from=2025-03-02&to=2026-03-01", headers=auth("leader")).json()
    counts = [f["properties"]["count"] for f in heat["features"]]
    assert sum(c > 0 for c in counts) >= 10
    matters = client.get(
        "/api/analytics/hot-matters?from=2025-03-02&to=2026-03-01", headers=auth("leader")
    ).json()
    assert len(matters["items"]) >= 5 and matters["items"][0]["size"] >= 2
    people = client.get(
        "/api/analytics/key-petitioners?from=2025-03-02&to=2026-03-01", headers=auth("leader")
    ).json()
    kinds = {k for p in people["items"] for k in p["kinds"]}
    assert {"repeat", "group_organiser"} <= kinds
