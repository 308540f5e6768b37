"""Kulldorff's space-time permutation scan on homogeneous data and with an injected cluster."""

from __future__ import annotations

import numpy as np

from xinfang.analytics.warning.scan import _recent_by_zone, space_time_permutation_scan
from xinfang.demo.county import load_demo_county


def _county() -> tuple[list[str], np.ndarray, np.ndarray]:
    towns = load_demo_county().townships
    return [t.code for t in towns], np.array([t.lng for t in towns]), np.array([t.lat for t in towns])


def test_it_finds_nothing_in_homogeneous_data() -> None:
    codes, lng, lat = _county()
    significant = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        cases = rng.poisson(0.5, size=(len(codes), 200))
        result = space_time_permutation_scan(cases, lng, lat, replicates=99, seed=seed)
        if result.primary is not None and result.primary.p_value <= 0.05:
            significant += 1
    assert significant <= 2  # expected 0.5 of 10 at the 5 % level


def test_it_finds_an_injected_cluster_in_the_right_township_and_window() -> None:
    codes, lng, lat = _county()
    rng = np.random.default_rng(42)
    cases = rng.poisson(0.5, size=(len(codes), 200))
    target = codes.index("350428203")
    cases[target, -3:] += [3, 5, 7]
    result = space_time_permutation_scan(cases, lng, lat, replicates=999, seed=1)
    top = result.primary
    assert top is not None
    assert top.zones[0] == target and len(top.zones) <= 2
    assert 2 <= top.window_days <= 4
    assert top.p_value <= 0.002 and top.recurrence_interval_days >= 500
    assert top.cases > 2 * top.expected


def test_the_radius_stays_within_half_the_county() -> None:
    codes, lng, lat = _county()
    cases = np.ones((len(codes), 30), dtype=int)
    cases[:, -1] += 5  # everywhere at once: not a spatial cluster
    result = space_time_permutation_scan(cases, lng, lat, replicates=99)
    assert all(c.p_value > 0.05 for c in result.clusters)


def test_the_monte_carlo_draw_keeps_the_margins() -> None:
    rng = np.random.default_rng(0)
    zone_totals = np.array([50, 30, 20])
    day_sizes = np.array([5, 10])
    sims = _recent_by_zone(rng, zone_totals, day_sizes, 4000)
    assert (sims.sum(axis=1) == day_sizes).all()  # each day keeps its size
    means = sims.mean(axis=0)
    expected = zone_totals[:, None] * day_sizes[None, :] / zone_totals.sum()
    assert np.allclose(means, expected, atol=0.15)
