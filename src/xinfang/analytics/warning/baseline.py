"""The expected daily count of every stream: day-type factors × a trailing, guarded, shrunk level.

Model: y[s, t] ~ NB(mean = level[s, t] × factor[type(t)], dispersion φ). The day-type factors (Monday … Sunday,
and weekday holidays) are pooled over all streams of the county, because a township × category stream is far too
sparse to estimate seven factors of its own, while offices open and close for all of them alike. The level of day
t is the maximum-likelihood estimate over the trailing window [t − guard − window, t − guard) given those factors
(Σy / Σfactor), shrunk towards the stream's rate over the previous `prior_days` with the weight of `prior_weight`
days (a gamma prior), so that a stream quiet for eight weeks does not have an expected count of exactly zero.
The guard band keeps a surge that builds over a week out of its own baseline; the short window follows the
season. Everything is cumulative sums: all streams and days in one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

HOLIDAY = 7  # a public holiday on a weekday; weekend days keep their own type
N_TYPES = 8


def day_types(
    start: date, n_days: int, *, is_rest_day: Callable[[date], bool] | None = None
) -> NDArray[np.int64]:
    """0–6 for Monday–Sunday; 7 for a rest day that falls on a weekday; a working weekend day (调休) counts as a
    Wednesday."""
    out = np.empty(n_days, dtype=np.int64)
    for t in range(n_days):
        day = start + timedelta(days=t)
        kind = day.weekday()
        if is_rest_day is not None:
            rest = is_rest_day(day)
            if rest and kind < 5:
                kind = HOLIDAY
            elif not rest and kind >= 5:
                kind = 2
        out[t] = kind
    return out


def day_type_factors(total: NDArray[np.floating], types: NDArray[np.int64]) -> NDArray[np.float64]:
    """Mean count on each day type relative to the overall mean (from a pooled series). Types seen on fewer
    than 3 days borrow: a holiday from Sunday, any other from 1."""
    total = np.asarray(total, dtype=np.float64)
    overall = total.mean() if total.size else 0.0
    factors = np.ones(N_TYPES)
    if overall <= 0:
        return factors
    for k in range(N_TYPES):
        mask = types == k
        if mask.sum() >= 3:
            factors[k] = max(total[mask].mean() / overall, 0.02)
    if (types == HOLIDAY).sum() < 3:
        factors[HOLIDAY] = factors[6]
    return factors


@dataclass(frozen=True)
class Baseline:
    """expected[s, t] is NaN where the history is too short to say."""

    expected: NDArray[np.float64]
    factors: NDArray[np.float64]
    dispersion: float  # φ of the negative binomial (variance = μ + φμ²); 0 means Poisson
    window: int
    guard: int


def _window_sums(cum: NDArray[np.float64], t_end: NDArray[np.int64], length: int) -> NDArray[np.float64]:
    """Sums over [t_end − length, t_end) along the last axis, from a cumulative sum with a leading zero."""
    hi = np.clip(t_end, 0, cum.shape[-1] - 1)
    lo = np.clip(t_end - length, 0, cum.shape[-1] - 1)
    return cum[..., hi] - cum[..., lo]


def fit_baseline(
    counts: NDArray[np.integer],
    types: NDArray[np.int64],
    *,
    window: int = 56,
    guard: int = 7,
    prior_days: int = 365,
    prior_weight: float = 14.0,
    min_history: int = 28,
    factors: NDArray[np.float64] | None = None,
    first_day: int = 0,
) -> Baseline:
    """Expected counts for every stream and day of `counts` [streams, days]. Days before `first_day` are
    *unknown* (before the data begins), not quiet: they add neither counts nor exposure to any window."""
    y = np.asarray(counts, dtype=np.float64)
    n_days = y.shape[1]
    first_day = max(0, min(first_day, n_days))
    if factors is None:
        factors = day_type_factors(y[:, first_day:].sum(axis=0), types[first_day:])
    f = factors[types].copy()
    f[:first_day] = 0.0
    cy = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(y, axis=1)], axis=1)
    cf = np.concatenate([[0.0], np.cumsum(f)])
    t_end = np.arange(n_days) - guard
    sy_w = _window_sums(cy, t_end, window)
    sf_w = _window_sums(cf, t_end, window)
    sy_p = _window_sums(cy, t_end, prior_days)
    sf_p = _window_sums(cf, t_end, prior_days)
    prior_rate = (sy_p + 0.5) / (sf_p + 1.0)
    level = (sy_w + prior_weight * prior_rate) / (sf_w + prior_weight)
    expected = level * f
    expected[:, : min(n_days, first_day + guard + min_history)] = np.nan
    dispersion = estimate_dispersion(y, expected)
    return Baseline(expected=expected, factors=factors, dispersion=dispersion, window=window, guard=guard)


def estimate_dispersion(y: NDArray[np.float64], mu: NDArray[np.float64]) -> float:
    """Pooled method-of-moments φ: Σ((y − μ)² − y) / Σμ², clipped to [0, 1]. Days whose count is improbably far
    above the baseline (the surges themselves) are left out so that they do not widen the null distribution."""
    ok = np.isfinite(mu) & (mu > 0)
    if not ok.any():
        return 0.0
    yy, mm = y[ok], mu[ok]
    keep = yy <= mm + 4.0 * np.sqrt(mm) + 2.0
    yy, mm = yy[keep], mm[keep]
    denom = float((mm**2).sum())
    if denom <= 0:
        return 0.0
    phi = float((((yy - mm) ** 2) - yy).sum() / denom)
    return float(min(max(phi, 0.0), 1.0))
