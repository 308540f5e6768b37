"""Forecast: the seasonal-mean model with negative-binomial intervals, on synthetic series with a known truth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from xinfang.analytics.forecast import forecast_series, forecast_total, interval, seasonal_index
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


def test_next_month_is_forecast_from_complete_months_only() -> None:
    """On 5 March only a few petitions of March are in: read as a month, they would look like a collapse and pull
    April's forecast down. With known_until = March, the history ends with February."""
    first = 2023 * 12 + 2  # March 2023
    this = 2026 * 12 + 2  # March 2026, partial
    streams = {("t", "城乡建设"): np.array([30.0] * (this - first) + [3.0])}
    fair = forecast_series(streams, first, this + 1, known_until=this)[("t", "城乡建设")]
    naive = forecast_series(streams, first, this + 1)[("t", "城乡建设")]
    assert fair.expected == 30.0 and fair.low < 30 < fair.high
    assert naive.expected < 27  # what counting the partial month as a month did
    total = forecast_total(streams, first, this + 1, known_until=this)
    assert total.expected == 30.0 and (total.low, total.high) == (fair.low, fair.high)


def test_the_county_total_adds_the_streams_with_its_own_interval() -> None:
    rng = np.random.default_rng(3)
    first, target = 2022 * 12, 2025 * 12 + 3
    shock = rng.gamma(8, 1 / 8, size=target - first + 1)  # county-wide months of more or fewer petitions
    streams = {
        (f"t{t}", cat): np.array(
            [rng.poisson(4 * SEASON[(first + i) % 12] * shock[i]) for i in range(target - first)]
        )
        for t in range(5)
        for cat in ("城乡建设", "劳动和社会保障")
    }
    rows = forecast_series(streams, first, target)
    total = forecast_total(streams, first, target)
    assert abs(total.expected - sum(f.expected for f in rows.values())) < 0.1
    assert total.low < total.expected < total.high
    # correlated streams: the total's interval is wider than a Poisson interval of the same mean
    poisson_low, poisson_high = interval(total.expected, 1e6)
    assert total.high - total.low > poisson_high - poisson_low


def test_the_dashboard_draws_next_months_forecast_beside_the_actual_months(
    seeded: Runtime, reg: Any, client: TestClient, auth: Auth
) -> None:
    import json
    import re

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
    api = client.get("/api/analytics/forecast", headers=auth("leader")).json()  # next month, April 2026
    assert api["month"] == "2026-04" and api["total"]["actual"] is None
    assert abs(api["total"]["expected"] - sum(r["expected"] for r in api["rows"])) < 0.1
    r = client.post("/login", data={"username": "leader", "password": "test-leader-1"})
    assert r.status_code in (200, 303)
    page = client.get("/dashboard")
    assert page.status_code == 200
    embedded = re.search(
        r'<script type="application/json" id="overview-data">(.*?)</script>', page.text, re.S
    )
    assert embedded
    outlook = json.loads(embedded.group(1))["forecast"]
    this, nxt = outlook["months"]
    assert (this["month"], this["partial"], nxt["month"], nxt["partial"]) == (
        "2026-03",
        True,
        "2026-04",
        False,
    )
    assert this["actual"] == 1 and nxt["actual"] is None  # the one received on 1 March so far
    assert nxt["expected"] == api["total"]["expected"] and (nxt["low"], nxt["high"]) == (
        api["total"]["low"],
        api["total"]["high"],
    )
    assert 1.0 <= nxt["expected"] <= 6.0 and nxt["low"] <= nxt["expected"] <= nxt["high"]
    assert f"下月(2026-04)预测 <b>{nxt['expected']:.0f}</b> 件" in page.text


def test_months_before_the_system_was_in_use_are_not_history() -> None:
    """A county that began recording a year ago: the 24 empty months before are not months without petitions
    (read so, the first months of use look like a surge and the interval balloons)."""
    first = 2023 * 12
    history = np.array([0.0] * 24 + [30.0, 28, 33, 29, 31, 30, 27, 32, 30, 29, 31, 30])
    streams = {("t", "城乡建设"): history}
    target = first + len(history)
    total = forecast_total(streams, first, target)
    assert 27 <= total.expected <= 33
    assert total.low >= 15 and total.high <= 45  # not 0 to 100
    [row] = forecast_series(streams, first, target).values()
    assert (row.low, row.high) == (total.low, total.high)


def test_the_vectorised_forecast_equals_the_one_stream_formula() -> None:
    """point_forecasts (all streams at once, what the county and province forecasts use) against point_forecast,
    the model written out for one stream, on random streams, seasons and targets, with short and long histories."""
    from xinfang.analytics.forecast import point_forecast, point_forecasts

    rng = np.random.default_rng(7)
    for n_months in (0, 5, 11, 12, 13, 30):
        matrix = rng.poisson(rng.uniform(0.2, 6.0, size=(40, 1)), size=(40, n_months)).astype(float)
        seasons = rng.uniform(0.0, 2.0, size=(40, 12))
        first = 2024 * 12 + int(rng.integers(0, 12))
        for target in (first + n_months, first + n_months + 1):
            got = point_forecasts(matrix, seasons, first, target)
            want = [point_forecast(matrix[i], seasons[i], first, target) for i in range(40)]
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_no_history_forecasts_zero() -> None:
    """A county with no petitions yet (a fresh installation): zero, not an error."""
    first = 2025 * 12
    assert forecast_total({}, first, first + 13, known_until=first + 12) == forecast_total(
        {}, first, first + 1
    )
    assert forecast_total({}, first, first + 13).expected == 0
    assert forecast_series({}, first, first + 13) == {}
