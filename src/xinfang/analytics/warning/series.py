"""Daily count matrices: one row per stream (e.g. township × category), one column per local date."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class CountMatrix:
    """counts[s, t] = records of stream keys[s] received on local date start + t days."""

    keys: list[Hashable]
    start: date
    counts: NDArray[np.int64]

    @property
    def days(self) -> int:
        return int(self.counts.shape[1])

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    def date_of(self, t: int) -> date:
        return self.start + timedelta(days=t)

    def index_of(self, day: date) -> int:
        return (day - self.start).days

    def row(self, key: Hashable) -> NDArray[np.int64]:
        return self.counts[self.keys.index(key)]


def count_matrix(
    days: Sequence[date],
    keys: Sequence[Hashable],
    *,
    start: date,
    end: date,
    all_keys: Sequence[Hashable] | None = None,
) -> CountMatrix:
    """Count records by (key, day); days outside [start, end] are dropped. `all_keys` fixes the row order and
    includes streams that had no record (a quiet stream is a stream too)."""
    order = list(dict.fromkeys(all_keys if all_keys is not None else sorted(set(keys), key=str)))
    index = {k: i for i, k in enumerate(order)}
    n_days = (end - start).days + 1
    counts = np.zeros((len(order), max(n_days, 0)), dtype=np.int64)
    if n_days <= 0 or not order:
        return CountMatrix(order, start, counts)
    offsets = np.fromiter(((d - start).days for d in days), dtype=np.int64, count=len(days))
    rows = np.fromiter((index.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
    keep = (offsets >= 0) & (offsets < n_days) & (rows >= 0)
    np.add.at(counts, (rows[keep], offsets[keep]), 1)
    return CountMatrix(order, start, counts)
