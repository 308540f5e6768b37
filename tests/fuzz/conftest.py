"""Fuzzing bookkeeping: how many operations and examples schemathesis ran, and what it found, per backend and role.

The counts are printed at the end of the pytest run ("fuzzing counts") and written to build/fuzz-summary.json, so
that a release note can quote them without re-running anything.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SUMMARY_FILE = Path(__file__).resolve().parents[2] / "build" / "fuzz-summary.json"


@dataclass
class Lane:
    operations: set[str] = field(default_factory=set)
    examples: int = 0
    by_status: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "operations": len(self.operations),
            "examples": self.examples,
            "responses_by_status": dict(sorted(self.by_status.items())),
            "failures": self.failures,
        }


LANES: dict[str, Lane] = defaultdict(Lane)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not LANES:
        return
    terminalreporter.section("schemathesis fuzzing counts")
    for name, lane in sorted(LANES.items()):
        statuses = ", ".join(f"{s}:{n}" for s, n in sorted(lane.by_status.items()))
        terminalreporter.write_line(
            f"{name}: {len(lane.operations)} operations, {lane.examples} examples, "
            f"{len(lane.failures)} failing operations; responses {statuses}"
        )
    SUMMARY_FILE.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY_FILE.write_text(
        json.dumps(
            {name: lane.as_dict() for name, lane in sorted(LANES.items())}, indent=2, ensure_ascii=False
        ),
        encoding="utf-8",
    )
    terminalreporter.write_line(f"written to {SUMMARY_FILE}")
