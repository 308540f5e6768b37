"""The demo's outside feeds: the synthetic sample files of data/samples imported through their profiles, so the demo
shows several sources on the heat map and matters linked across feeds (12345, grid, 110, 住建, 人社, 市场监管)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from xinfang.intake.importer import import_petitions
from xinfang.runtime import Runtime
from xinfang.security.actors import Actor

FEEDS = (
    ("hotline12345.csv", "12345", "hotline12345"),
    ("grid_events.xlsx", "grid", "grid_event"),
    ("police110.csv", "110", "police110"),
    ("housing_complaints.xlsx", "zjj", "housing_complaint"),
    ("hrss_complaints.csv", "rsj", "hrss_complaint"),
    ("market_complaints.xlsx", "scjgj", "market_complaint"),
)


def load_feeds(rt: Runtime, session: Session, *, actor: Actor) -> dict[str, Any]:
    """Import every sample feed (idempotent: a second load adds nothing). Returns {source: rows added}."""
    folder = Path(str(resources.files("xinfang") / "data" / "samples"))
    added = {}
    for name, source, profile in FEEDS:
        path = folder / name
        if not path.is_file():
            continue
        report = import_petitions(
            session,
            runtime=rt,
            actor=actor,
            data=path.read_bytes(),
            filename=name,
            source=source,
            profile=profile,
        )
        added[source] = report.rows_added
    return {"feeds_added": added}
