"""Prometheus text-format metrics: request counts and latency per route, plus a few business gauges read at scrape.

Counters are per process (Prometheus scrapes each instance and sums); gauges come from the database, so every
instance reports the same business figures.
"""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.buckets: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.sums: dict[tuple[str, str], float] = defaultdict(float)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            counts = self.buckets[(method, route)]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self.sums[(method, route)] += seconds

    def render(self, gauges: dict[str, tuple[str, float]]) -> str:
        lines = [
            "# HELP xinfang_http_requests_total HTTP requests by route and status",
            "# TYPE xinfang_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                lines.append(
                    f'xinfang_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}'
                )
            lines += [
                "# HELP xinfang_http_request_seconds Request latency",
                "# TYPE xinfang_http_request_seconds histogram",
            ]
            for (method, route), counts in sorted(self.buckets.items()):
                labels = f'method="{method}",route="{route}"'
                for bound, n in zip(BUCKETS, counts, strict=False):
                    lines.append(f'xinfang_http_request_seconds_bucket{{{labels},le="{bound}"}} {n}')
                lines.append(f'xinfang_http_request_seconds_bucket{{{labels},le="+Inf"}} {counts[-1]}')
                lines.append(f"xinfang_http_request_seconds_sum{{{labels}}} {self.sums[(method, route)]:.6f}")
                lines.append(f"xinfang_http_request_seconds_count{{{labels}}} {counts[-1]}")
        for name, (help_text, value) in sorted(gauges.items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]
        return "\n".join(lines) + "\n"
