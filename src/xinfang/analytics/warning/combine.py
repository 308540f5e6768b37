"""From statistics to signals: the thresholds of both tiers in one configuration, and per-stream detection.

Tiers: *yellow* goes to analysts (督查) and costs little when wrong; *red* is pushed to leaders and the
responsible unit, so it must be rare and right (the targets: ≥ 50 % of red alerts real, ≤ 1 false red per county
per week). A stream turns red on a strong CUSUM (a sustained rise) or an extreme one-day count, a space-time
cluster turns red when its recurrence interval is long, and a matter with ≥ 5 distinct petitioners in 7 days is
red by rule. Defaults were tuned by `bench/alerts.py` on seeds 1–3 (see its docstring for the figures on others).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xinfang.analytics.warning.aberration import ears_c2, ears_c3, nb_cusum, nb_pvalues
from xinfang.analytics.warning.baseline import fit_baseline
from xinfang.analytics.warning.scan import Cluster
from xinfang.analytics.warning.series import CountMatrix

NONE, YELLOW, RED = 0, 1, 2
TIER_NAMES = {YELLOW: "yellow", RED: "red"}


@dataclass(frozen=True)
class WarningConfig:
    """Every threshold of the warning scan. Pass a modified copy (dataclasses.replace) to tune."""

    # baseline
    window_days: int = 56
    guard_days: int = 7
    prior_days: int = 365
    prior_weight: float = 14.0
    # ESSENCE-style regression p-value of one day's count
    p_yellow: float = 1e-3
    p_red: float = 1e-6
    # negative-binomial CUSUM
    cusum_kappa: float = 2.0
    cusum_delta: float = 1.0
    cusum_h_yellow: float = 4.0
    cusum_h_red: float = 12.0
    # EARS (reference only: not part of the combination)
    c2_threshold: float = 3.0
    c3_threshold: float = 2.0
    # space-time permutation scan
    scan_replicates: int = 999
    scan_study_days: int = 365
    scan_max_window_days: int = 7
    scan_max_radius_km: float | None = None  # None: half the largest distance between townships
    scan_min_cases: int = 4
    scan_p_yellow: float = 0.05
    scan_ri_red_days: float = 999.0  # p ≤ 1/999: needs ≥ 999 replicates
    scan_seed: int = 20260302
    scan_min_llr: float = 3.0  # clusters weaker than this are not simulated (never significant in practice)
    # rules
    matter_window_days: int = 7
    matter_min_petitioners: int = 5
    matter_min_petitions: int = (
        3  # one joint petition with many signatures is a group petition, not this rule
    )
    group_visit_min_headcount: int = 5
    group_visit_red_headcount: int = 20
    risk_red_types: tuple[str, ...] = ("self_harm", "violence")
    risk_yellow_types: tuple[str, ...] = ("escalation", "group")
    rule_lookback_days: int = 1  # rules look at records received on the scan day and the days before it
    # alerts
    merge_gap_days: int = 7  # a signal within this many days of an open alert's last signal updates it
    combination: tuple[str, ...] = ("nb_regression", "nb_cusum", "scan", "matter_rule")


@dataclass
class Signal:
    """One reason to warn: what, where, when, how strong, against what. No personal data, ever."""

    kind: str  # stream | scan | rule
    method: str  # nb_regression | nb_cusum | scan | matter_rule | group_visit | risk_signal
    tier: int
    day: date
    township_codes: list[str] = field(default_factory=list)  # empty: the whole county
    category: str | None = None
    observed: float | None = None
    baseline: float | None = None
    statistic: float | None = None
    threshold: float | None = None
    p_value: float | None = None
    recurrence_interval_days: float | None = None
    window_days: int = 1
    matter_key: str | None = None  # rules: the matter (smallest petition id of its group)
    petition_ids: list[int] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def tier_name(self) -> str:
        return TIER_NAMES.get(self.tier, "none")


@dataclass(frozen=True)
class StreamStatistics:
    expected: NDArray[np.float64]
    pvalues: NDArray[np.float64]
    cusum: NDArray[np.float64]
    dispersion: float


def stream_statistics(
    counts: NDArray[np.integer],
    types: NDArray[np.int64],
    config: WarningConfig,
    factors: NDArray[np.float64] | None = None,
    first_day: int = 0,
) -> StreamStatistics:
    base = fit_baseline(
        counts,
        types,
        window=config.window_days,
        guard=config.guard_days,
        prior_days=config.prior_days,
        prior_weight=config.prior_weight,
        factors=factors,
        first_day=first_day,
    )
    pvalues = nb_pvalues(counts, base.expected, base.dispersion)
    cusum = nb_cusum(
        counts, base.expected, base.dispersion, kappa=config.cusum_kappa, delta=config.cusum_delta
    )
    return StreamStatistics(base.expected, pvalues, cusum, base.dispersion)


def method_tiers(
    counts: NDArray[np.integer], stats: StreamStatistics, config: WarningConfig, *, with_ears: bool = False
) -> dict[str, NDArray[np.int8]]:
    """Tier of every stream and day by each method (0 none, 1 yellow, 2 red)."""
    p, s = stats.pvalues, stats.cusum
    tiers: dict[str, NDArray[np.int8]] = {
        "nb_regression": np.where(
            p <= config.p_red, RED, np.where(p <= config.p_yellow, YELLOW, NONE)
        ).astype(np.int8),
        "nb_cusum": np.where(
            s >= config.cusum_h_red, RED, np.where(s >= config.cusum_h_yellow, YELLOW, NONE)
        ).astype(np.int8),
    }
    if with_ears:
        # EARS has no red of its own in our scheme; a flag is shown as red to measure what it would cost.
        tiers["ears_c2"] = np.where(ears_c2(counts) > config.c2_threshold, RED, NONE).astype(np.int8)
        tiers["ears_c3"] = np.where(ears_c3(counts) > config.c3_threshold, RED, NONE).astype(np.int8)
    return tiers


def detect_stream_signals(
    matrix: CountMatrix,
    types: NDArray[np.int64],
    config: WarningConfig,
    *,
    days: list[int] | None = None,
    factors: NDArray[np.float64] | None = None,
    first_day: int = 0,
) -> list[Signal]:
    """Signals of the combined stream methods on the given day indices (default: the last day). Keys of the
    matrix are (township_code | None, category) pairs. One signal per stream and day, by its strongest method."""
    counts = matrix.counts
    stats = stream_statistics(counts, types, config, factors=factors, first_day=first_day)
    tiers = method_tiers(counts, stats, config)
    used = [m for m in ("nb_regression", "nb_cusum") if m in config.combination]
    if not used:
        return []
    combined = np.max(np.stack([tiers[m] for m in used]), axis=0)
    signals: list[Signal] = []
    for t in days if days is not None else [matrix.days - 1]:
        for s in np.nonzero(combined[:, t])[0]:
            key: Any = matrix.keys[int(s)]
            township, category = key
            lo = max(0, t - config.matter_window_days + 1)
            recent_observed = float(counts[s, lo : t + 1].sum())
            recent_expected = float(np.nansum(stats.expected[s, lo : t + 1]))
            by_cusum = tiers["nb_cusum"][s, t] >= tiers["nb_regression"][s, t] and "nb_cusum" in used
            method = "nb_cusum" if by_cusum else "nb_regression"
            signals.append(
                Signal(
                    kind="stream",
                    method=method,
                    tier=int(combined[s, t]),
                    day=matrix.date_of(t),
                    township_codes=[township] if township else [],
                    category=category,
                    observed=recent_observed if by_cusum else float(counts[s, t]),
                    baseline=round(recent_expected if by_cusum else float(stats.expected[s, t]), 3),
                    statistic=round(float(stats.cusum[s, t]), 3)
                    if by_cusum
                    else round(float(counts[s, t]), 3),
                    threshold=(config.cusum_h_red if combined[s, t] == RED else config.cusum_h_yellow)
                    if by_cusum
                    else (config.p_red if combined[s, t] == RED else config.p_yellow),
                    p_value=float(stats.pvalues[s, t]),
                    recurrence_interval_days=round(1.0 / max(float(stats.pvalues[s, t]), 1e-12), 1),
                    window_days=(t - lo + 1) if by_cusum else 1,
                    details={
                        "cusum": round(float(stats.cusum[s, t]), 3),
                        "count_today": int(counts[s, t]),
                        "expected_today": round(float(stats.expected[s, t]), 3),
                        "dispersion": round(stats.dispersion, 4),
                    },
                )
            )
    return signals


def scan_tier(cluster: Cluster, config: WarningConfig) -> int:
    if cluster.recurrence_interval_days >= config.scan_ri_red_days:
        return RED
    if cluster.p_value <= config.scan_p_yellow:
        return YELLOW
    return NONE


def situation_key(signal: Signal) -> str:
    """Signals about one situation share a key, and so update one alert: the place (one township — a scan
    cluster's centre — or the county) and the category; a risk signal is about one petition and keeps its own."""
    if signal.method == "risk_signal":
        return f"risk:{signal.matter_key}"
    place = signal.township_codes[0] if signal.township_codes else "county"
    return f"place:{place}:{signal.category or '*'}"


def consolidate(signals: list[Signal]) -> dict[str, list[Signal]]:
    """Group one day's signals by situation. A county-wide stream signal is left out where a township signal of
    the same category and at least the same tier explains it, and an all-categories signal where a one-category
    signal at the same place does: one situation, one alert — not one for the township and one for the county.
    (Keys stay fixed, so a situation's alert is the same from one day to the next.)"""
    by_category: dict[str | None, int] = {}
    by_place: dict[str, int] = {}
    for s in signals:
        if s.township_codes and s.method != "risk_signal":
            by_category[s.category] = max(by_category.get(s.category, 0), s.tier)
            if s.category:
                place = s.township_codes[0]
                by_place[place] = max(by_place.get(place, 0), s.tier)
    grouped: dict[str, list[Signal]] = {}
    for s in signals:
        if s.kind == "stream" and not s.township_codes and by_category.get(s.category, 0) >= s.tier:
            continue
        if s.category is None and s.township_codes and by_place.get(s.township_codes[0], 0) >= s.tier:
            continue
        grouped.setdefault(situation_key(s), []).append(s)
    return grouped
