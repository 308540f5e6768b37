"""Next month's expected petitions per township and category, with an interval, beside the actual counts.

Model (why this and not a GLM): a county has ~13 townships × 7 categories = 91 monthly series of a few petitions
each, and often only one to three years of history. A per-series Poisson/NB GLM with 11 month dummies and a trend
would have more parameters than a short series has information, and statsmodels would add ~40 MB for it. We use
the multiplicative seasonal-mean model that public-health surveillance baselines use, with pooling where data are thin:

    expected(series, month m) = level(series) × season(category, m) × trend(series)

- level: the series' mean deseasonalised monthly count over the last 12 months (months without petitions count
  as 0);
- season(category, m): month-of-year index of the whole county's category (mean in month m / overall mean), from
  all complete years in the history, shrunk towards 1 by n / (n + 10) where n is the month-of-year's expected
  count over those years; pooled because one township's December says little, the county's says much;
- trend: (last 6 months + 1) / (previous 6 months + 1), square-rooted (damped) and clipped to [0.67, 1.5].

Interval: negative binomial with the expected value as mean and a dispersion k estimated by the method of moments
from the one-step-ahead residuals of all series over the last 12 months (var = mu + mu²/k); the 90% interval is the
5% and 95% quantiles. The same expected values serve the early-warning baseline (analytics.warning may import
`expected_counts`). Tested on synthetic seasonal series: the interval covers the truth about 90% of the time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import numpy as np
from scipy import stats
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.enums import OrgKind
from xinfang.cases.models import Petition
from xinfang.clock import CHINA_TZ
from xinfang.org.models import OrgUnit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require, scope_petitions, sees_everything

HISTORY_MONTHS = 36
INTERVAL = 0.90
PRIOR_COUNTS = 10.0  # pseudo-counts per month-of-year pulling a seasonal factor towards 1
COLUMNS: tuple[tuple[str, str], ...] = (
    ("township_name", "乡镇"),
    ("category", "内容分类"),
    ("expected", "预测件数"),
    ("low", "区间下限"),
    ("high", "区间上限"),
    ("actual", "实际件数"),
)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str) -> int:
    from xinfang.errors import InvalidInput

    try:
        year, month = (int(x) for x in text.split("-"))
        return month_index(date(year, month, 1))
    except ValueError:
        raise InvalidInput("月份格式应为 YYYY-MM", code="analytics.bad_month") from None


@dataclass(frozen=True)
class Forecast:
    expected: float
    low: int
    high: int


def seasonal_index(totals: np.ndarray, first_month: int) -> np.ndarray:
    """12 month-of-year factors from a monthly total series starting at month index `first_month`."""
    n_years = len(totals) // 12
    if n_years < 1 or totals.sum() == 0:
        return np.ones(12)
    usable = totals[len(totals) - n_years * 12 :]
    start = (first_month + len(totals) - n_years * 12) % 12
    by_moy = np.zeros(12)
    for i, v in enumerate(usable):
        by_moy[(start + i) % 12] += v
    by_moy /= n_years
    mean = by_moy.mean()
    if mean <= 0:
        return np.ones(12)
    raw = by_moy / mean
    shrink = n_years * mean / (n_years * mean + PRIOR_COUNTS)  # thin data: towards no season
    return 1 + shrink * (raw - 1)


def point_forecast(series: np.ndarray, season: np.ndarray, first_month: int, target: int) -> float:
    """Expected count in month `target` from the monthly `series` (month indexes first_month ...) before it."""
    hist = series[: target - first_month]
    if len(hist) == 0:
        return 0.0
    last = hist[-12:]
    moys = [(first_month + len(hist) - len(last) + i) % 12 for i in range(len(last))]
    deseason = np.array([v / max(season[m], 0.05) for v, m in zip(last, moys, strict=True)])
    level = float(deseason.mean())
    if len(hist) >= 12:
        recent, before = hist[-6:].sum(), hist[-12:-6].sum()
        trend = min(max(math.sqrt((recent + 1) / (before + 1)), 0.67), 1.5)
    else:
        trend = 1.0
    return level * float(season[target % 12]) * trend


def point_forecasts(matrix: np.ndarray, seasons: np.ndarray, first_month: int, target: int) -> np.ndarray:
    """`point_forecast` for every row of `matrix` (streams × months from first_month) at once, each row with its
    own seasonal factors (a row of `seasons`, streams × 12): a province's dashboard forecasts 15,000 streams,
    which one Python call per stream and month took seconds to do."""
    hist = matrix[:, : target - first_month]
    if hist.shape[1] == 0:
        return np.zeros(len(matrix))
    last = hist[:, -12:]
    moys = (first_month + hist.shape[1] - last.shape[1] + np.arange(last.shape[1])) % 12
    level = (last / np.maximum(seasons[:, moys], 0.05)).mean(axis=1)
    if hist.shape[1] >= 12:
        recent, before = hist[:, -6:].sum(axis=1), hist[:, -12:-6].sum(axis=1)
        trend = np.clip(np.sqrt((recent + 1) / (before + 1)), 0.67, 1.5)
    else:
        trend = np.ones(len(matrix))
    return np.asarray(level * seasons[:, target % 12] * trend)


def _stacked(
    streams: dict[tuple[str, str], np.ndarray], seasons: dict[str, np.ndarray], months: int
) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """The streams' keys, their counts as one matrix (`months` wide when there is no stream), and each stream's
    category seasons as another."""
    keys = list(streams)
    if not keys:
        return keys, np.zeros((0, max(months, 0))), np.zeros((0, 12))
    return keys, np.vstack([streams[k] for k in keys]), np.vstack([seasons[k[1]] for k in keys])


def dispersion(pairs: list[tuple[float, int]]) -> float:
    """NB size k by moments from (expected, observed) pairs; large k means Poisson-like."""
    mus = np.array([m for m, _ in pairs], dtype=float)
    ys = np.array([y for _, y in pairs], dtype=float)
    keep = mus > 0
    if keep.sum() < 5:
        return 50.0
    mus, ys = mus[keep], ys[keep]
    excess = float(((ys - mus) ** 2 - mus).sum())
    if excess <= 0:
        return 1e6
    return max(float((mus**2).sum()) / excess, 0.5)


def interval(mu: float, k: float, level: float = INTERVAL) -> tuple[int, int]:
    if mu <= 0:
        return 0, 0
    p = k / (k + mu)
    tail = (1 - level) / 2
    return int(stats.nbinom.ppf(tail, k, p)), int(stats.nbinom.ppf(1 - tail, k, p))


def _in_use(
    streams: dict[tuple[str, str], np.ndarray], first_month: int, known_until: int
) -> tuple[dict[tuple[str, str], np.ndarray], int]:
    """Drop the months before the first recorded petition (the system was not in use yet): as history they would
    read as real months without petitions, and the first months of use would look like a surge."""
    total = np.zeros(max(known_until - first_month, 0))
    for s in streams.values():
        total = total + s[: known_until - first_month]
    used = np.flatnonzero(total)
    if not len(used) or used[0] == 0:
        return streams, first_month
    skip = int(used[0])
    return {key: s[skip:] for key, s in streams.items()}, first_month + skip


def _seasons(
    streams: dict[tuple[str, str], np.ndarray], first_month: int, known_until: int
) -> dict[str, np.ndarray]:
    """Month-of-year factors per category, from the county's complete months [first_month, known_until)."""
    by_category: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(known_until - first_month))
    for (_town, cat), s in streams.items():
        by_category[cat] = by_category[cat] + s[: known_until - first_month]
    return {cat: seasonal_index(total, first_month) for cat, total in by_category.items()}


def _backtest_months(first_month: int, known_until: int) -> list[int]:
    """The (up to 12) last complete months whose one-step-ahead forecast has a year of history behind it."""
    n_known = known_until - first_month
    return [known_until - back for back in range(1, min(12, max(n_known - 12, 0)) + 1)]


def forecast_series(
    streams: dict[tuple[str, str], np.ndarray],
    first_month: int,
    target: int,
    known_until: int | None = None,
) -> dict[tuple[str, str], Forecast]:
    """Forecast `target` for every (township, category) stream, with seasonality pooled per category.

    Only months before `known_until` (default: `target`) are history: pass the current month's index when
    forecasting next month, so that the partial current month is not read as a collapse in level and trend."""
    known_until = min(known_until or target, target)
    streams, first_month = _in_use(streams, first_month, known_until)
    keys, matrix, seasons = _stacked(
        streams, _seasons(streams, first_month, known_until), target - first_month + 1
    )
    pairs: list[tuple[float, int]] = []
    backtest = _backtest_months(first_month, known_until)
    by_month = {t: point_forecasts(matrix, seasons, first_month, t) for t in backtest}
    for i in range(len(keys)):
        for t in backtest:
            pairs.append((float(by_month[t][i]), int(matrix[i, t - first_month])))
    k = dispersion(pairs)
    mus = point_forecasts(matrix[:, : known_until - first_month], seasons, first_month, target)
    out = {}
    for key, mu in zip(keys, mus, strict=True):
        low, high = interval(float(mu), k)
        out[key] = Forecast(round(float(mu), 2), low, high)
    return out


def forecast_total(
    streams: dict[tuple[str, str], np.ndarray],
    first_month: int,
    target: int,
    known_until: int | None = None,
) -> Forecast:
    """The county's total for `target`: the sum of the streams' expected values (so it agrees with the table),
    with its own dispersion estimated from the total's one-step-ahead errors over the last 12 complete months —
    streams move together (festivals, county-wide campaigns), which summing the streams' intervals would miss."""
    known_until = min(known_until or target, target)
    streams, first_month = _in_use(streams, first_month, known_until)
    _keys, matrix, seasons = _stacked(
        streams, _seasons(streams, first_month, known_until), target - first_month + 1
    )
    pairs: list[tuple[float, int]] = []
    for t in _backtest_months(first_month, known_until):
        mu_t = float(point_forecasts(matrix, seasons, first_month, t).sum())
        pairs.append((mu_t, int(matrix[:, t - first_month].sum())))
    mu = float(point_forecasts(matrix[:, : known_until - first_month], seasons, first_month, target).sum())
    low, high = interval(mu, dispersion(pairs))
    return Forecast(round(mu, 1), low, high)


def _local_month(at: datetime) -> int:
    local = at.astimezone(CHINA_TZ)
    return local.year * 12 + local.month - 1


def monthly_streams(
    session: Session, *, actor: Actor, first_month: int, last_month: int, use_rollup: bool = True
) -> dict[tuple[str, str], np.ndarray]:
    """Monthly counts per (township, category) for months first_month .. last_month inclusive: whole months, so a
    reader who sees every petition is served from the heat-map roll-up (analytics.rollup), others from the
    petitions table with their scope."""
    n = last_month - first_month + 1
    if use_rollup and sees_everything(actor):
        from xinfang.analytics import rollup

        out: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(n))
        cells = rollup.stream_counts(
            session,
            first_month=rollup.month_number(month_start(first_month)),
            last_month=rollup.month_number(month_start(last_month)),
        )
        for (town, cat, yyyymm), count in cells.items():
            out[(town, cat)][(yyyymm // 100) * 12 + yyyymm % 100 - 1 - first_month] += count
        return dict(out)
    start = datetime.combine(month_start(first_month), time(), CHINA_TZ)
    end = datetime.combine(month_start(last_month + 1), time(), CHINA_TZ)
    q: Any = select(Petition.township_code, Petition.category, Petition.received_at).where(
        Petition.received_at >= start,
        Petition.received_at < end,
        Petition.township_code.is_not(None),
        Petition.category.is_not(None),
    )
    streams: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(n))
    for town, cat, at in session.execute(scope_petitions(q, actor)):
        streams[(town, cat)][_local_month(at) - first_month] += 1
    return dict(streams)


def forecast_month(session: Session, *, actor: Actor, target: int, today: date) -> dict[str, Any]:
    """Rows (township × category) for month `target`: expected, interval, and the actual count so far."""
    require(actor, "analytics.read")
    first = target - HISTORY_MONTHS
    last_known = min(month_index(today), target)
    streams = monthly_streams(session, actor=actor, first_month=first, last_month=last_known)
    forecasts = forecast_series(streams, first, target, known_until=last_known)
    total = forecast_total(streams, first, target, known_until=last_known)
    names = dict(
        session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.kind == OrgKind.TOWNSHIP)).all()
    )
    rows = []
    for (town, cat), fc in sorted(forecasts.items()):
        series = streams[(town, cat)]
        actual = (
            int(series[target - first]) if target <= last_known and target - first < len(series) else None
        )
        if fc.expected < 0.05 and not actual:
            continue
        rows.append(
            {
                "township_code": town,
                "township_name": names.get(town, town),
                "category": cat,
                "expected": fc.expected,
                "low": fc.low,
                "high": fc.high,
                "actual": actual,
            }
        )
    partial = target == month_index(today)
    return {
        "month": f"{month_start(target):%Y-%m}",
        "interval": INTERVAL,
        "actual_is_partial": partial,
        "rows": rows,
        "total": {
            "expected": total.expected,
            "low": total.low,
            "high": total.high,
            "actual": int(sum(s[target - first] for s in streams.values())) if target <= last_known else None,
        },
    }


def county_outlook(session: Session, *, actor: Actor, today: date) -> dict[str, Any]:
    """The county's total for this month (actual so far beside its forecast) and next month (forecast only), each
    with its interval: what the dashboard's trend chart draws beside the actual monthly counts. Both are forecast
    from the complete months before this one; next month's total equals forecast_month(next month)["total"]."""
    require(actor, "analytics.read")
    this = month_index(today)
    first = this + 1 - HISTORY_MONTHS
    streams = monthly_streams(session, actor=actor, first_month=first, last_month=this)
    months = []
    for target in (this, this + 1):
        total = forecast_total(streams, first, target, known_until=this)
        actual = int(sum(s[this - first] for s in streams.values())) if target == this else None
        months.append(
            {
                "month": f"{month_start(target):%Y-%m}",
                "expected": total.expected,
                "low": total.low,
                "high": total.high,
                "actual": actual,
                "partial": target == this,
            }
        )
    return {"interval": INTERVAL, "months": months}
