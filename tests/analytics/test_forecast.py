"""Forecast: the seasonal-mean model with negative-binomial intervals, on synthetic series with a known truth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from xinfang.analytics.forecast import forecast_series, interval, seasonal_index
from xinfang.runtime import Runtime

Auth = Callable[[str], dict[str, str]]
SEASON = np.array([1.8, 1.4, 0.9, 0.8, 0.8, 0.9, 1.1, 1.0, 0.8, 0.8, 0.8, 0.9])


def _truth(month: int, base: float) -> float:
    return base * SEASON[month % 12]


def test_the_seasonal_index_recovers_the_pattern() -> None:
    rng = np.random.default_rng(1)
    first = 2020 * 12
    totals = np.array([rng.poisson(_truth(first + i, 200)) for i in range(48)], dtype=float)
    index = seasonal_index(totals, first)
    assert np.allclose(index, SEASON / SEASON.mean(), atol=0.12)


def test_the_interval_covers_the_truth_most_of_the_time() -> None:
    rng = np.random.default_rng(7)
    first, target = 2021 * 12, 2024 * 12 + 1  # forecast February after three years
    covered = total = 0
    errors = []
    for _rep in range(40):
        streams = {}
        bases = {}
        for t in range(6):
            for cat in ("城乡建设", "劳动和社会保障"):
                base = float(rng.uniform(1, 12))
                bases[(f"t{t}", cat)] = base
                streams[(f"t{t}", cat)] = np.array(
                    [rng.poisson(_truth(first + i, base)) for i in range(target - first + 1)], dtype=float
                )
        result = forecast_series(streams, first, target)
        for key, fc in result.items():
            actual = streams[key][target - first]
            covered += fc.low <= actual <= fc.high
            total += 1
            errors.append(fc.expected / _truth(target, bases[key]))
    assert covered / total >= 0.82  # a 90% interval, allowing for estimation error
    assert 0.85 <= float(np.median(errors)) <= 1.15  # unbiased around the true mean


def test_the_interval_widens_with_the_mean() -> None:
    assert interval(0, 5) == (0, 0)
    low1, high1 = interval(2, 20)
    low2, high2 = interval(50, 20)
    assert high1 - low1 < high2 - low2 and low2 <= 50 <= high2


def test_the_api_shows_forecasts_beside_actual_counts(
    seeded: Runtime, reg: Any, client: TestClient, auth: Auth
) -> None:
    with seeded.session() as s:
        for m in range(14):
            for k in range(3):
                reg(
                    s,
                    title="欠薪",
                    body=f"工地拖欠工资第{m}-{k}",
                    days_ago=m * 30 + k + 1,
                    category="劳动和社会保障",
                )
    r = client.get("/api/analytics/forecast?month=2026-03", headers=auth("leader"))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["month"] == "2026-03" and data["actual_is_partial"] is True
    [row] = data["rows"]
    assert row["township_name"] == "万安镇" and row["category"] == "劳动和社会保障"
    assert 1.0 <= row["expected"] <= 6.0 and row["low"] <= row["expected"] <= row["high"]
    assert row["actual"] == 1  # the one received on 1 March so far
    r = client.get("/api/analytics/forecast?format=xlsx", headers=auth("leader"))
    assert r.status_code == 200 and r.content[:2] == b"PK"
