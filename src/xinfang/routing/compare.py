"""Comparing two category models on the same held-out petitions before switching (`xinfang model compare`).

Accuracy and macro-F1 alone can hide what an administrator cares about: a category that gets much worse, and how
many petitions would now be suggested to another department. So both models are evaluated on the same labelled
file, their per-class F1 put side by side, and every petition with text is routed twice — same rules, same
organisation, only the model differs — to count how often the top suggested department would change.

The verdict is deliberately conservative: "better" only when neither headline figure drops and no category with
enough examples loses more than CLASS_DROP of F1; "worse" when both headline figures drop; otherwise a person
decides ("mixed").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xinfang.routing.dataset import LabelledDoc
from xinfang.routing.pipeline import DispatchPipeline
from xinfang.routing.training import evaluate_docs

CLASS_DROP = 0.05  # an F1 loss larger than this in one category is a regression worth a person's look
MIN_CLASS_SUPPORT = 5  # categories with fewer held-out examples are too noisy to judge


def _summary(result: dict[str, Any], model_version: str) -> dict[str, Any]:
    return {
        "model_version": model_version,
        "n": result["n"],
        "accuracy": result["accuracy"],
        "macro_f1": result["macro_f1"],
        "per_class_f1": {label: m["f1"] for label, m in result["per_class"].items()},
        "support": {label: m["support"] for label, m in result["per_class"].items()},
    }


def top_department_changes(
    current: DispatchPipeline, candidate: DispatchPipeline, docs: Sequence[LabelledDoc]
) -> dict[str, Any]:
    """How many petitions (with raw text; pre-tokenised rows cannot be routed) get another top department."""
    routed = changed = 0
    for doc in docs:
        if not doc.text:
            continue
        before = current.route("", doc.text)["departments"]
        after = candidate.route("", doc.text)["departments"]
        routed += 1
        changed += bool(before and after and before[0]["code"] != after[0]["code"])
    return {"n_routed": routed, "n_changed": changed, "share": round(changed / routed, 4) if routed else None}


def verdict(current: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Any]:
    """better | worse | mixed, with the reasons in Chinese (see the module docstring)."""
    d_acc = round(candidate["accuracy"] - current["accuracy"], 4)
    d_f1 = round(candidate["macro_f1"] - current["macro_f1"], 4)
    regressions = sorted(
        label
        for label, f1 in current["per_class_f1"].items()
        if current["support"].get(label, 0) >= MIN_CLASS_SUPPORT
        and candidate["per_class_f1"].get(label, 0.0) < f1 - CLASS_DROP
    )
    figures = f"准确率 {d_acc:+.4f},宏平均F1 {d_f1:+.4f}"
    if d_acc >= 0 and d_f1 >= 0 and not regressions:
        code, text = "better", f"候选模型不差于当前模型({figures}),可以切换"
    elif d_acc < 0 and d_f1 < 0:
        code, text = "worse", f"候选模型较差({figures}),不建议切换"
    else:
        worse = f";明显变差的类别:{'、'.join(regressions)}" if regressions else ""
        code, text = "mixed", f"互有优劣({figures}{worse}),请人工判断"
    return {
        "verdict": code,
        "message": text,
        "accuracy_delta": d_acc,
        "macro_f1_delta": d_f1,
        "regressions": regressions,
    }


def compare_models(
    current: DispatchPipeline, candidate: DispatchPipeline, docs: Sequence[LabelledDoc]
) -> dict[str, Any]:
    """Both models' figures on `docs`, the share of changed top departments, and the verdict: one JSON object."""
    cur = _summary(evaluate_docs(current.model, docs), current.model_version)
    cand = _summary(evaluate_docs(candidate.model, docs), candidate.model_version)
    return {
        "n": len(docs),
        "current": cur,
        "candidate": cand,
        "top_department": top_department_changes(current, candidate, docs),
        **verdict(cur, cand),
    }
