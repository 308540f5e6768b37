"""Retraining the category model on the county's own history: export it, and switch models in and out (audited).

The cycle an administrator runs (docs/manual/operations.md, "重新训练分类模型"):

    xinfang model export-history --out 历史.csv            # this module: the labelled history
    xinfang model train --data 历史.csv --out 候选           # routing.training
    xinfang model compare 评估.csv --candidate 候选          # routing.compare
    xinfang model activate 候选  /  xinfang model rollback   # this module over routing.model_store

The export holds, per petition, its title and body as stored (ID and phone numbers are already masked at intake,
security.redaction; they are masked again here, so that the file stays clean even for rows stored before that rule)
and its *final* category: `petitions.category` is what the latest correction set (dispatch.service.correct_category
writes it), so no correction is lost and none that was later undone survives. `label_source` says where the label
came from, because a label that is only the engine's own unreviewed guess teaches the next model nothing new:

- corrected: a person corrected the category (a correction row or a category_corrected event exists);
- recorded:  the category was given at intake (by the clerk or the source file) and differs from the engine's guess;
- model:     the category is the engine's suggestion that nobody changed.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xinfang.cases.enums import Status
from xinfang.cases.models import Event, Petition
from xinfang.clock import CHINA_TZ, local_date
from xinfang.dispatch.models import RoutingCorrection
from xinfang.errors import InvalidInput
from xinfang.routing import model_store
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require
from xinfang.security.redaction import redact

# `model train --data` reads title + body as the text and `label` as the category; the other columns are context.
COLUMNS = ("title", "body", "label", "label_source", "received_on", "status")
LABEL_SOURCES = ("corrected", "recorded", "model")


def _corrected_ids(session: Session) -> set[int]:
    fixed = select(RoutingCorrection.petition_id).where(RoutingCorrection.chosen_category.is_not(None))
    events = select(Event.petition_id).where(Event.kind == "category_corrected")
    return set(session.execute(fixed.union(events)).scalars())


def label_source(
    petition_id: int, category: str, analysis: dict[str, Any] | None, corrected: set[int]
) -> str:
    if petition_id in corrected:
        return "corrected"
    guess = ((analysis or {}).get("category") or {}).get("label")
    return "model" if guess == category else "recorded"


def history_rows(
    session: Session,
    *,
    since: date | None = None,
    concluded_only: bool = False,
    sources: tuple[str, ...] = LABEL_SOURCES,
) -> Iterator[dict[str, str]]:
    """The labelled petitions, oldest first, as CSV rows (see COLUMNS); read in batches, never all at once."""
    corrected = _corrected_ids(session)
    q = select(
        Petition.id,
        Petition.title,
        Petition.body,
        Petition.category,
        Petition.analysis,
        Petition.received_at,
        Petition.status,
    ).where(Petition.category.is_not(None), Petition.category != "")
    if since is not None:
        q = q.where(Petition.received_at >= datetime.combine(since, time(), tzinfo=CHINA_TZ))
    if concluded_only:
        q = q.where(or_(Petition.status == Status.CONCLUDED.value, Petition.concluded_at.is_not(None)))
    q = q.order_by(Petition.received_at, Petition.id).execution_options(yield_per=500)
    for pid, title, body, category, analysis, received_at, status in session.execute(q):
        source = label_source(pid, category, analysis, corrected)
        if source not in sources:
            continue
        yield {
            "title": redact(title or "").text,
            "body": redact(body or "").text,
            "label": category,
            "label_source": source,
            "received_on": local_date(received_at).isoformat(),
            "status": status,
        }


def export_history(
    session: Session,
    *,
    actor: Actor,
    out: Path,
    now: datetime,
    since: date | None = None,
    concluded_only: bool = False,
    sources: tuple[str, ...] = LABEL_SOURCES,
) -> dict[str, Any]:
    """Write the labelled history to `out` (UTF-8 CSV with BOM, so that Excel/WPS open it; mode 600: it holds
    petition text) and audit the export with its counts (never its content)."""
    require(actor, "routing.manage")
    unknown = sorted(set(sources) - set(LABEL_SOURCES))
    if unknown:
        raise InvalidInput(f"未知的标签来源: {'、'.join(unknown)}", code="model.unknown_label_source")
    out.parent.mkdir(parents=True, exist_ok=True)
    labels: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in history_rows(session, since=since, concluded_only=concluded_only, sources=sources):
            writer.writerow(row)
            labels[row["label"]] += 1
            by_source[row["label_source"]] += 1
    report = {
        "out": str(out),
        "rows": sum(labels.values()),
        "label_counts": dict(sorted(labels.items())),
        "label_sources": dict(sorted(by_source.items())),
        "since": since.isoformat() if since else None,
        "concluded_only": concluded_only,
    }
    audit.record(
        session,
        actor=actor,
        action="model.export_history",
        at=now,
        object_type="training_data",
        details={k: report[k] for k in ("rows", "label_sources", "since", "concluded_only")},
    )
    return report


def _need_model_dir(model_dir: Path | None) -> Path:
    if model_dir is None:
        raise InvalidInput(
            "未设置模型目录:请在配置文件中设置 XINFANG_MODEL_DIR(例如 /var/lib/xinfang/models)",
            code="model.no_model_dir",
        )
    return model_dir


def activate_model(
    session: Session, *, actor: Actor, model_dir: Path | None, candidate: Path, now: datetime
) -> dict[str, Any]:
    """Make a trained model the deployment's active one (model_store.activate), audited in the caller's
    transaction. Running processes switch on their next request."""
    require(actor, "routing.manage")
    result = model_store.activate(_need_model_dir(model_dir), candidate, now=now)
    audit.record(
        session,
        actor=actor,
        action="model.activate",
        at=now,
        object_type="category_model",
        object_id=result["model_version"],
        details=result,
    )
    return result


def rollback_model(
    session: Session, *, actor: Actor, model_dir: Path | None, now: datetime
) -> dict[str, Any]:
    """Restore the model active before the last activation (model_store.rollback), audited."""
    require(actor, "routing.manage")
    result = model_store.rollback(_need_model_dir(model_dir))
    audit.record(
        session,
        actor=actor,
        action="model.rollback",
        at=now,
        object_type="category_model",
        object_id=result["model_version"],
        details=result,
    )
    return result
