"""Kulldorff's prospective space-time permutation scan statistic (Kulldorff et al., PLoS Medicine 2005).

Input: cases[z, t], counts by spatial unit (township) and day over a study period that ends today, and the units'
centroids. Candidate clusters are cylinders: a circle around a unit's centroid holding it and its nearest
neighbours up to `max_radius_km` (by default half the largest distance between two units), times a window of
the last 1 … `max_window_days` days (prospective: every window ends today). Under the null, where a case happens
and when are independent given the margins, so a cylinder's expected count is
μ_A = (cases of its units over the whole period) × (cases of its days over all units) / (all cases),
and its log-likelihood ratio is c·log(c/μ) + (C − c)·log((C − c)/(C − μ)) when c > μ.

Significance by Monte Carlo: permuting the dates of the cases keeps both margins. Only the cases of the last
`max_window_days` days matter to the statistic, so a replicate draws *which units* those days' cases fall in,
day by day, from the multivariate hypergeometric law (each unit's remaining cases among all remaining cases) —
exactly the distribution that a full permutation of dates induces, at a cost of O(replicates × units × days)
whatever the number of cases. Replicates are vectorised. p = (1 + #replicates ≥ observed) / (1 + replicates);
recurrence interval = 1 / p days (one analysis a day, as SaTScan reports it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Cluster:
    zones: list[int]  # indices into the input units, the centre first
    window_days: int  # the last `window_days` days, today included
    cases: int
    expected: float
    llr: float
    p_value: float
    recurrence_interval_days: float
    radius_km: float

    @property
    def relative_risk(self) -> float:
        return self.cases / self.expected if self.expected > 0 else float("inf")


@dataclass(frozen=True)
class ScanResult:
    clusters: list[Cluster] = field(
        default_factory=list
    )  # most likely first, then non-overlapping secondaries
    replicates: int = 0
    total_cases: int = 0

    @property
    def primary(self) -> Cluster | None:
        return self.clusters[0] if self.clusters else None


def distances_km(lng: NDArray[np.floating], lat: NDArray[np.floating]) -> NDArray[np.float64]:
    """Great-circle distances between all pairs of points."""
    lo, la = np.radians(np.asarray(lng, float)), np.radians(np.asarray(lat, float))
    dlo = lo[:, None] - lo[None, :]
    dla = la[:, None] - la[None, :]
    a = np.sin(dla / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin(dlo / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def cylinders(
    dist: NDArray[np.float64], max_radius_km: float
) -> tuple[NDArray[np.float64], list[list[int]], list[float]]:
    """Distinct circles: membership matrix [circles, units], the member lists (centre first) and radii."""
    seen: set[frozenset[int]] = set()
    members: list[list[int]] = []
    radii: list[float] = []
    for centre in range(dist.shape[0]):
        order = np.argsort(dist[centre], kind="stable")
        for k in range(1, len(order) + 1):
            if dist[centre, order[k - 1]] > max_radius_km:
                break
            group = [int(z) for z in order[:k]]
            key = frozenset(group)
            if key not in seen:
                seen.add(key)
                members.append(group)
                radii.append(float(dist[centre, order[k - 1]]))
    matrix = np.zeros((len(members), dist.shape[0]))
    for i, group in enumerate(members):
        matrix[i, group] = 1.0
    return matrix, members, radii


def _llr(c: NDArray[np.float64], mu: NDArray[np.float64], total: float) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = np.where(c > 0, c * np.log(c / mu), 0.0)
        rest = total - c
        outside = np.where(rest > 0, rest * np.log(rest / (total - mu)), 0.0)
        value = inside + outside
    return np.where((c > mu) & np.isfinite(value), value, 0.0)


def _recent_by_zone(
    rng: np.random.Generator, zone_totals: NDArray[np.int64], day_sizes: NDArray[np.int64], replicates: int
) -> NDArray[np.int64]:
    """[replicates, zones, days]: cases per unit on each of the last days (most recent first) when dates are
    permuted, drawn sequentially from multivariate hypergeometric laws."""
    n_zones, n_days = len(zone_totals), len(day_sizes)
    remaining = np.broadcast_to(zone_totals, (replicates, n_zones)).astype(np.int64).copy()
    out = np.zeros((replicates, n_zones, n_days), dtype=np.int64)
    for j, size in enumerate(day_sizes):
        left = np.full(replicates, int(size), dtype=np.int64)
        pool = remaining.sum(axis=1)
        for z in range(n_zones):
            good = remaining[:, z]
            bad = pool - good
            draw = np.zeros(replicates, dtype=np.int64)
            active = left > 0
            if active.any():
                draw[active] = rng.hypergeometric(good[active], bad[active], left[active])
            out[:, z, j] = draw
            left -= draw
            pool = bad
        remaining -= out[:, :, j]
    return out


def space_time_permutation_scan(
    cases: NDArray[np.integer],
    lng: NDArray[np.floating],
    lat: NDArray[np.floating],
    *,
    max_radius_km: float | None = None,
    max_window_days: int = 7,
    replicates: int = 999,
    seed: int = 0,
    min_cases: int = 3,
    max_share: float = 0.5,
    max_clusters: int = 3,
    min_llr: float = 0.0,
) -> ScanResult:
    """Scan cases[units, days] (the last column is today). Returns the most likely cluster and up to
    `max_clusters − 1` secondary clusters that share no unit with a better one, each with its p-value."""
    counts = np.asarray(cases, dtype=np.int64)
    n_zones, n_days = counts.shape
    total = int(counts.sum())
    window = min(max_window_days, n_days)
    if total == 0 or window == 0 or n_zones == 0:
        return ScanResult([], replicates, total)
    dist = distances_km(lng, lat)
    if max_radius_km is None:
        max_radius_km = float(dist.max()) / 2 if n_zones > 1 else 0.0
    member, groups, radii = cylinders(dist, max_radius_km)
    zone_totals = counts.sum(axis=1)
    recent = counts[:, ::-1][:, :window]  # most recent first
    day_sizes = recent.sum(axis=0)
    day_cum = np.cumsum(day_sizes).astype(np.float64)  # cases of the last w days, all units
    circle_totals = member @ zone_totals  # [circles]
    expected = circle_totals[:, None] * day_cum[None, :] / total  # [circles, windows]
    allowed = (circle_totals[:, None] <= max_share * total) & np.ones_like(expected, dtype=bool)

    observed = member @ np.cumsum(recent, axis=1)  # [circles, windows]
    llr = np.where(allowed & (observed >= min_cases), _llr(observed, expected, total), 0.0)
    if llr.max() <= max(min_llr, 0.0):
        # Nothing strong enough to be worth the Monte Carlo (a screening bound, 0 = always simulate).
        return ScanResult([], replicates, total)

    rng = np.random.default_rng(seed)
    sim = np.cumsum(_recent_by_zone(rng, zone_totals, day_sizes, replicates), axis=2)  # [r, zones, windows]
    sim_obs = np.einsum("cz,rzw->rcw", member, sim)
    sim_llr = np.where(allowed[None] & (sim_obs >= min_cases), _llr(sim_obs, expected[None], total), 0.0)
    sim_max = sim_llr.reshape(replicates, -1).max(axis=1)

    clusters: list[Cluster] = []
    used: set[int] = set()
    for flat in np.argsort(-llr, axis=None, kind="stable"):
        c, w = np.unravel_index(int(flat), llr.shape)
        value = float(llr[c, w])
        if value <= 0 or len(clusters) >= max_clusters:
            break
        if used.intersection(groups[c]):
            continue
        used.update(groups[c])
        p = (1 + int((sim_max >= value - 1e-9).sum())) / (1 + replicates)
        clusters.append(
            Cluster(
                zones=list(groups[c]),
                window_days=int(w) + 1,
                cases=int(observed[c, w]),
                expected=float(expected[c, w]),
                llr=value,
                p_value=p,
                recurrence_interval_days=1.0 / p,
                radius_km=radii[c],
            )
        )
    return ScanResult(clusters, replicates, total)
