"""Early warning statistics: pure functions on daily counts (numpy/scipy only, no database, no clock).

What is here, and why these methods
-----------------------------------
Petition streams (township × category, county × category) are *sparse* daily counts: at county level a few
records a day, per township and category mostly zeros. That rules out methods built on normal approximations of
dense counts and shapes the choice:

* **Baseline** (`baseline.py`): a log-linear Poisson model with a multiplicative day-type effect (Monday … Sunday,
  plus "weekday holiday") pooled over all streams of the county, and a stream level estimated from a trailing
  window (56 days) behind a guard band (7 days) so that a building surge does not raise its own baseline. The
  short trailing window follows the season (wage arrears before Spring Festival, summer floods); a gamma prior
  centred on the stream's previous-year rate keeps the level of a sparse stream away from zero. The level is the
  maximum-likelihood estimate of the model given the day-type factors (ratio estimator), so the whole baseline is
  a few cumulative sums, vectorised over every stream and day.
* **Regression p-values** (`aberration.nb_pvalues`), as in ESSENCE: the upper-tail probability of today's count
  under a negative binomial with the baseline mean and a dispersion pooled over streams (method of moments;
  Poisson when the data show none). Exact tail probabilities, unlike z-scores, stay valid for counts of 0, 1, 2.
  Good at a sudden spike on one day.
* **Negative-binomial CUSUM** (`aberration.nb_cusum`, Höhle & Paul 2008): accumulates the log-likelihood ratio of
  "baseline + δ a day" against "baseline". Surges of petitions ramp up over days (the demo's and real ones: first
  a few calls, then visits, then a group visit); a CUSUM is the optimal detector of a sustained shift and signals
  on the ramp, days before the peak — which is the lead time the county asks for. An additive shift δ (not a
  multiplicative one) is used because a ×3 shift of 0.04 a day is not a situation anyone needs to know about.
* **EARS C2/C3** (`aberration.ears_c2`, `ears_c3`): CDC's no-history methods, kept as the classic reference in
  the backtest. On sparse streams their 7-day standard deviation is often zero, which is why they are not part of
  the combination (the backtest prints what they would do).
* **Space-time permutation scan** (`scan.py`, Kulldorff et al. 2005): needs no population at risk and no
  baseline model — it only asks whether cases cluster in space *and* time more than the product of the spatial
  and temporal margins predicts, which makes it robust to the baseline errors of the methods above and finds
  clusters that straddle several neighbouring townships. Monte Carlo p-values by permuting case dates
  (replicates configurable, 99/999/9999), reported as a recurrence interval (1/p days for a daily scan, as
  SaTScan does).
* **Rules** (`rules.py`): ≥ 5 distinct petitioners on one matter within 7 days, a registered group visit
  (visit with headcount ≥ 5), and risk signals of the dispatch analysis with a place.

`combine.py` turns signals into the two alert tiers (yellow for analysts, red pushed to leaders) with thresholds
tuned in `bench/alerts.py` on one set of seeds and reported on others. The database side (reading counts,
upserting alerts, pushing) is the `xinfang.alerts` slice.
"""

from xinfang.analytics.warning.aberration import ears_c2, ears_c3, nb_cusum, nb_pvalues
from xinfang.analytics.warning.baseline import Baseline, day_types, fit_baseline
from xinfang.analytics.warning.combine import Signal, WarningConfig, detect_stream_signals
from xinfang.analytics.warning.scan import ScanResult, space_time_permutation_scan
from xinfang.analytics.warning.series import CountMatrix, count_matrix

__all__ = [
    "Baseline",
    "CountMatrix",
    "ScanResult",
    "Signal",
    "WarningConfig",
    "count_matrix",
    "day_types",
    "detect_stream_signals",
    "ears_c2",
    "ears_c3",
    "fit_baseline",
    "nb_cusum",
    "nb_pvalues",
    "space_time_permutation_scan",
]
