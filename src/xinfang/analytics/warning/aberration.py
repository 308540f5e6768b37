"""Aberration methods on [streams, days] arrays of counts and baseline means.

* `nb_pvalues`: the ESSENCE-style regression test — P(X ≥ y) under NB(μ, φ) (Poisson when φ = 0).
* `nb_cusum`: Höhle & Paul's negative-binomial CUSUM of the likelihood ratio "μ1 against μ0", with the
  out-of-control mean μ1 = max(κ·μ0, μ0 + δ): a relative shift for busy streams, an absolute one for sparse ones.
* `ears_c2` / `ears_c3`: CDC EARS on a 7-day baseline lagged by 2 days (reference only; see the package doc).

NaN baselines (too little history) give p = 1, a CUSUM held at 0, and C2/C3 of 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import stats


def nb_pvalues(y: NDArray[np.integer], mu: NDArray[np.floating], dispersion: float) -> NDArray[np.float64]:
    """Upper-tail probability of each count under its baseline (1 where the baseline is unknown or y = 0)."""
    y = np.asarray(y, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    ok = np.isfinite(mu) & (mu > 0) & (y > 0)
    out = np.ones(np.broadcast(y, mu).shape)
    if not ok.any():
        return out
    yy, mm = np.broadcast_to(y, out.shape)[ok], np.broadcast_to(mu, out.shape)[ok]
    if dispersion <= 1e-9:
        out[ok] = stats.poisson.sf(yy - 1, mm)
    else:
        size = 1.0 / dispersion
        out[ok] = stats.nbinom.sf(yy - 1, size, size / (size + mm))
    return out


def _llr(
    y: NDArray[np.float64], mu0: NDArray[np.float64], mu1: NDArray[np.float64], dispersion: float
) -> NDArray[np.float64]:
    if dispersion <= 1e-9:
        return y * np.log(mu1 / mu0) - (mu1 - mu0)
    n = 1.0 / dispersion
    return y * np.log(mu1 * (n + mu0) / (mu0 * (n + mu1))) + n * np.log((n + mu0) / (n + mu1))


def nb_cusum(
    y: NDArray[np.integer],
    mu: NDArray[np.floating],
    dispersion: float,
    *,
    kappa: float = 2.0,
    delta: float = 1.0,
) -> NDArray[np.float64]:
    """S[s, t] = max(0, S[s, t−1] + LLR[s, t]); compare with a threshold h. No reset after a signal: the statistic
    stays high while the situation lasts and falls back by itself, which is what alert merging wants."""
    yf = np.asarray(y, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    known = np.isfinite(mu) & (mu > 0)
    mu0 = np.where(known, mu, 1.0)
    mu1 = np.maximum(kappa * mu0, mu0 + delta)
    llr = np.where(known, _llr(yf, mu0, mu1, dispersion), -np.inf)
    out = np.zeros_like(yf)
    s = np.zeros(yf.shape[0])
    for t in range(yf.shape[1]):
        s = np.maximum(0.0, s + llr[:, t])
        out[:, t] = s
    return out


def ears_c2(
    y: NDArray[np.integer], *, lag: int = 2, baseline_days: int = 7, sd_floor: float = 0.5
) -> NDArray[np.float64]:
    """(y − mean) / sd over days [t − lag − baseline_days, t − lag); sd floored (it is 0 on a quiet sparse stream)."""
    y = np.asarray(y, dtype=np.float64)
    n = y.shape[1]
    out = np.zeros_like(y)
    span = lag + baseline_days
    if n <= span:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(y, baseline_days, axis=1)  # [s, n − b + 1, b]
    base = windows[:, : n - span, :]  # windows starting at t − span for t = span .. n − 1
    mean = base.mean(axis=2)
    sd = np.maximum(base.std(axis=2, ddof=1), sd_floor)
    out[:, span:] = (y[:, span:] - mean) / sd
    return out


def ears_c3(y: NDArray[np.integer], *, sd_floor: float = 0.5) -> NDArray[np.float64]:
    """Σ over today and the two days before of max(0, C2 − 1), with C2 on a baseline lagged by 2 days."""
    c2 = ears_c2(y, sd_floor=sd_floor)
    excess = np.maximum(c2 - 1.0, 0.0)
    out = excess.copy()
    out[:, 1:] += excess[:, :-1]
    out[:, 2:] += excess[:, :-2]
    return out
