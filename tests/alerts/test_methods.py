"""Each statistical method on constructed series with known answers (pure: no database)."""

from __future__ import annotations

from datetime import date

import numpy as np

from xinfang.analytics.warning.aberration import ears_c2, ears_c3, nb_cusum, nb_pvalues
from xinfang.analytics.warning.baseline import HOLIDAY, day_type_factors, day_types, fit_baseline
from xinfang.analytics.warning.combine import WarningConfig, detect_stream_signals
from xinfang.analytics.warning.series import count_matrix

START = date(2024, 1, 1)  # a Monday
CFG = WarningConfig()


def _flat(streams: int, days: int, rate: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    types = day_types(START, days)
    weekly = np.array([1.2, 1.1, 1.1, 1.0, 1.0, 0.4, 0.3, 0.3])[types]
    return rng.poisson(rate * weekly, size=(streams, days)), types


def test_day_types_mark_weekday_holidays_and_working_weekends() -> None:
    rest = {date(2024, 1, 1)}  # a Monday holiday
    types = day_types(
        START, 7, is_rest_day=lambda d: d in rest or (d.weekday() >= 5 and d != date(2024, 1, 6))
    )
    assert list(types) == [HOLIDAY, 1, 2, 3, 4, 2, 6]


def test_the_baseline_respects_the_day_of_week() -> None:
    counts, types = _flat(40, 400, 2.0)
    factors = day_type_factors(counts.sum(axis=0), types)
    assert factors[5] / factors[0] == np.float64(factors[5] / factors[0])
    assert 0.25 < factors[5] / factors[0] < 0.45  # 0.4 / 1.2 in the generating model
    base = fit_baseline(counts, types)
    monday, saturday = 371, 376  # a Monday and the Saturday after it
    assert base.expected[0, monday] > 2.5 * base.expected[0, saturday]


def test_the_baseline_follows_a_season() -> None:
    rng = np.random.default_rng(3)
    days = 500
    season = 2.0 + 1.5 * np.sin(np.arange(days) * 2 * np.pi / 365)
    counts = rng.poisson(np.tile(season, (30, 1)))
    base = fit_baseline(counts, day_types(START, days))
    mean_expected = np.nanmean(base.expected[:, 100:], axis=0)
    # At the seasonal high and low the baseline is on the right side of the yearly mean (2.0).
    assert mean_expected[120 - 100] > 2.8 and mean_expected[300 - 100] < 1.3


def test_a_flat_poisson_series_stays_within_the_stated_false_alarm_rate() -> None:
    counts, types = _flat(60, 420, 1.5)
    base = fit_baseline(counts, types)
    p = nb_pvalues(counts, base.expected, base.dispersion)
    valid = np.isfinite(base.expected)
    rate = (p[valid] <= CFG.p_yellow).mean()
    # The test is exact (discrete, hence conservative); allow for the baseline's estimation error.
    assert rate <= 2 * CFG.p_yellow
    assert (p[valid] <= CFG.p_red).sum() == 0
    s = nb_cusum(counts, base.expected, base.dispersion, kappa=CFG.cusum_kappa, delta=CFG.cusum_delta)
    assert (s[valid] >= CFG.cusum_h_red).mean() <= 1e-3


def test_a_spike_is_flagged_on_its_day_and_no_other() -> None:
    counts, types = _flat(1, 400, 1.0, seed=5)
    counts[0, 300] = 14
    base = fit_baseline(counts, types)
    p = nb_pvalues(counts, base.expected, base.dispersion)
    assert np.nonzero(p[0] <= CFG.p_red)[0].tolist() == [300]
    assert ears_c2(counts)[0, 300] > CFG.c2_threshold
    assert ears_c3(counts)[0, 300] > CFG.c3_threshold


def test_a_step_is_flagged_by_the_cusum_within_days_of_its_start() -> None:
    rng = np.random.default_rng(9)
    days = 400
    rate = np.where(np.arange(days) >= 385, 4.0, 1.0)  # scanned prospectively: the step is recent
    counts = rng.poisson(rate)[None, :]
    base = fit_baseline(counts, day_types(START, days), factors=np.ones(8))
    s = nb_cusum(counts, base.expected, base.dispersion, kappa=CFG.cusum_kappa, delta=CFG.cusum_delta)
    alarms = np.nonzero(s[0] >= CFG.cusum_h_red)[0]
    assert alarms.size and 385 <= alarms[0] <= 391


def test_detect_stream_signals_names_the_stream_and_the_day() -> None:
    rng = np.random.default_rng(2)
    days = 420
    counts = rng.poisson(0.3, size=(3, days))
    counts[1, -4:] += [3, 4, 5, 6]
    keys = [("350428101", "劳动和社会保障"), ("350428102", "城乡建设"), (None, "城乡建设")]
    matrix = count_matrix([], [], start=START, end=START.replace(year=2025), all_keys=keys)
    matrix = type(matrix)(keys, START, counts)
    signals = detect_stream_signals(matrix, day_types(START, days), CFG)
    assert [(s.township_codes, s.category, s.tier) for s in signals] == [(["350428102"], "城乡建设", 2)]
    assert signals[0].day == matrix.date_of(days - 1)
    assert signals[0].baseline is not None and signals[0].threshold is not None


def test_days_before_the_data_begins_are_unknown_not_quiet() -> None:
    counts, types = _flat(20, 400, 1.5, seed=11)
    counts[:, :300] = 0  # the history starts on day 300 (a first import)
    naive = fit_baseline(counts, types)
    aware = fit_baseline(counts, types, first_day=300)
    assert np.isnan(aware.expected[:, 300 + 7 + 27]).all()
    day = 360
    # The naive baseline still counts the year of zeros; the aware one only what was observed.
    assert np.nanmean(naive.expected[:, day]) < 0.8 * np.nanmean(aware.expected[:, day])
    p = nb_pvalues(counts, aware.expected, aware.dispersion)
    assert (p[:, 335:] <= CFG.p_red).sum() == 0
