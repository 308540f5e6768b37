"""Review imported history: a table of messages with their official replies and reply dates.

Columns (as in the Teddy Cup 2020 file of 1,408 replies): 留言编号, 留言主题, 留言时间, 留言详情, 答复意见, 答复时间, and
optionally 完整性指标 / 可解释性指标 (0/1 labels of a few rows). 留言时间 mixes text ("2019/4/25 9:32:09") and Excel
date cells; 留言详情 starts with runs of "\\n\\t" padding. No database: the rules run on `CaseView`s built here.

Output (`review_table`) follows the CLI contract: {"cases": [{"id", "score", "findings"}], "summary": {...}}.
Evidence carries only short key terms, counts and dates, never the message or reply text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from xinfang.errors import InvalidInput
from xinfang.review.rules import (
    RULES_VERSION,
    CaseView,
    ReplyCorpus,
    Review,
    completeness_verdict,
    explainability_verdict,
    review_case,
)

ID, TITLE, RECEIVED, BODY, REPLY, REPLIED = (
    "留言编号",
    "留言主题",
    "留言时间",
    "留言详情",
    "答复意见",
    "答复时间",
)
COMPLETE, EXPLAINS = "完整性指标", "可解释性指标"
REQUIRED_COLUMNS = (TITLE, RECEIVED, BODY, REPLY, REPLIED)
_DATE = re.compile(r"^\s*(\d{4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})")
_EXCEL_EPOCH = date(1899, 12, 30)


def parse_day(value: Any) -> date | None:
    """A cell as a calendar day: datetime/date cells, "2019/4/25 9:32:09", "2019-04-25", "2019年4月25日", or an
    Excel serial number that lost its date format ("43580.39")."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    m = _DATE.match(text)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    try:
        serial = float(text)
    except ValueError:
        return None
    if 20_000 <= serial <= 80_000:  # 1954 .. 2119
        return _EXCEL_EPOCH + timedelta(days=int(serial))
    return None


def clean_text(value: Any) -> str:
    """Strip the \\n\\t padding and collapse whitespace runs."""
    return re.sub(r"\s+", " ", str(value or "")).strip()


def _label(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text in ("0", "1") else None


def views_from_rows(
    rows: Sequence[Mapping[str, Any]], *, formal: bool = False, limit_days: int = 60
) -> list[CaseView]:
    views = []
    for i, row in enumerate(rows, start=1):
        views.append(
            CaseView(
                id=str(row.get(ID) or f"row{i}").strip(),
                title=clean_text(row.get(TITLE)),
                body=clean_text(row.get(BODY)),
                reply_text=clean_text(row.get(REPLY)),
                received_on=parse_day(row.get(RECEIVED)),
                replied_on=parse_day(row.get(REPLIED)),
                formal=formal,
                reply_limit_days=limit_days,
            )
        )
    return views


def check_columns(headers: Sequence[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    if missing:
        raise InvalidInput(f"缺少列：{'、'.join(missing)}", code="review.missing_columns", missing=missing)


def review_rows(
    rows: Sequence[Mapping[str, Any]], *, formal: bool = False, limit_days: int = 60
) -> tuple[list[CaseView], list[Review]]:
    views = views_from_rows(rows, formal=formal, limit_days=limit_days)
    unique = _unique(views)
    corpus = ReplyCorpus.build(
        (v.id if unique else i, v.title, v.body, v.reply_text) for i, v in enumerate(views)
    )
    reviews = []
    for i, v in enumerate(views):
        key_view = v if unique else _with_id(v, i)
        reviews.append(review_case(key_view, corpus=corpus))
    return views, reviews


def _unique(views: Sequence[CaseView]) -> bool:
    return len({v.id for v in views}) == len(views)


def _with_id(view: CaseView, new_id: Any) -> CaseView:
    from dataclasses import replace

    return replace(view, id=new_id)


def review_table(
    rows: Sequence[Mapping[str, Any]], *, headers: Sequence[str], formal: bool = False, limit_days: int = 60
) -> dict[str, Any]:
    """The CLI's JSON object: every case's score and findings, and the summary."""
    check_columns(headers)
    views, reviews = review_rows(rows, formal=formal, limit_days=limit_days)
    cases = [
        {
            "id": v.id,
            "score": r.score,
            "findings": [{"rule": f.rule, "ok": f.ok, "evidence": f.evidence} for f in r.findings],
        }
        for v, r in zip(views, reviews, strict=True)
    ]
    summary = summarise(reviews)
    if COMPLETE in headers or EXPLAINS in headers:
        summary["labelled_agreement"] = labelled_agreement(rows, reviews)
    return {"cases": cases, "summary": summary}


# ---- summary figures ------------------------------------------------------------------------------------------


def quantiles(values: Sequence[float], qs: Sequence[float]) -> dict[str, float | None]:
    """Linear-interpolation quantiles (numpy's default), keyed "p10", "p50" ..."""
    s = sorted(values)
    out: dict[str, float | None] = {}
    for q in qs:
        key = f"p{round(q * 100)}"
        if not s:
            out[key] = None
            continue
        pos = q * (len(s) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        out[key] = round(s[lo] + (s[hi] - s[lo]) * (pos - lo), 2)
    return out


def histogram(scores: Sequence[int], width: int = 10) -> dict[str, int]:
    bins: Counter[str] = Counter()
    for s in scores:
        lo = min(s // width * width, 100 - width)
        bins[f"{lo}-{lo + width}"] += 1
    return {f"{lo}-{lo + width}": bins.get(f"{lo}-{lo + width}", 0) for lo in range(0, 100, width)}


def summarise(reviews: Sequence[Review]) -> dict[str, Any]:
    scores = [r.score for r in reviews]
    applicable: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    timing: Counter[str] = Counter()
    days: list[int] = []
    for r in reviews:
        for f in r.findings:
            applicable[f.rule] += 1
            failing[f.rule] += not f.ok
            if f.rule == "reply.specific":
                reasons.update(f.evidence.get("reasons", []))
            if f.rule == "timing.reply_limit":
                timing[f.evidence.get("problem") or "on_time"] += 1
                if isinstance(f.evidence.get("days"), int):
                    days.append(f.evidence["days"])
    return {
        "n": len(reviews),
        "rules_version": RULES_VERSION,
        "score": {
            "mean": round(sum(scores) / len(scores), 2) if scores else None,
            "min": min(scores, default=None),
            "max": max(scores, default=None),
            **quantiles(scores, (0.1, 0.25, 0.5, 0.75, 0.9)),
            "histogram": histogram(scores),
        },
        "rules": {
            rule: {
                "applicable": applicable[rule],
                "failing": failing[rule],
                "share_failing": round(failing[rule] / applicable[rule], 4),
            }
            for rule in sorted(applicable)
        },
        "boilerplate_reasons": dict(reasons),
        "timing": {"outcomes": dict(timing), "days": quantiles(days, (0.1, 0.5, 0.9))},
    }


def confusion(pairs: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """Agreement of (label, automatic verdict) pairs: confusion matrix, accuracy and Cohen's kappa."""
    n = len(pairs)
    m = Counter(pairs)
    matrix = {f"label_{a}": {f"auto_{b}": m.get((a, b), 0) for b in (1, 0)} for a in (1, 0)}
    if not n:
        return {"n": 0, "matrix": matrix, "accuracy": None, "kappa": None}
    observed = (m.get((1, 1), 0) + m.get((0, 0), 0)) / n
    kappa = cohen_kappa(pairs)
    return {"n": n, "matrix": matrix, "accuracy": round(observed, 4), "kappa": kappa}


def cohen_kappa(pairs: Sequence[tuple[Any, Any]]) -> float | None:
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    left = Counter(a for a, _ in pairs)
    right = Counter(b for _, b in pairs)
    expected = sum(left[k] * right.get(k, 0) for k in left) / (n * n)
    if expected >= 1:
        return 1.0 if observed == 1 else 0.0
    return round((observed - expected) / (1 - expected), 4)


def labelled_agreement(rows: Sequence[Mapping[str, Any]], reviews: Sequence[Review]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "note": "weak labels of one team without guidelines; 完整性 vs answers_demand∧facts∧decision, "
        "可解释性 vs (basis or concrete facts)∧not boilerplate"
    }
    for column, key, verdict in (
        (COMPLETE, "completeness", completeness_verdict),
        (EXPLAINS, "explainability", explainability_verdict),
    ):
        pairs = []
        for row, review in zip(rows, reviews, strict=True):
            label, auto = _label(row.get(column)), verdict(review)
            if label is not None and auto is not None:
                pairs.append((label, int(auto)))
        out[key] = confusion(pairs)
    return out
