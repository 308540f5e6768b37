"""案件评查 commands: `xinfang review run` (stored concluded cases) and `xinfang review replies FILE` (imported
messages with their official replies). Output never contains message or reply text: scores, rule names, short key
terms, counts and dates only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from xinfang.cli import DbOption, handles_errors

review_app = typer.Typer(
    help="案件评查: automatic review of concluded cases and of imported replies.", no_args_is_help=True
)


@review_app.command("run")
@handles_errors
def run(
    db: DbOption = None,
    limit: Annotated[int | None, typer.Option(help="review at most this many cases")] = None,
) -> None:
    """Review every concluded case not yet reviewed by the current rules version (the worker does this daily;
    idempotent)."""
    from xinfang.cli.admin import runtime_for
    from xinfang.ops.scheduled import review_run

    result = review_run(runtime_for(db), limit=limit)
    typer.echo(json.dumps(result, ensure_ascii=False))


@review_app.command("replies")
@handles_errors
def replies(
    file: Annotated[
        Path, typer.Argument(help="XLSX or CSV with 留言主题, 留言时间, 留言详情, 答复意见, 答复时间")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object {cases, summary}")] = False,
    formal: Annotated[
        bool,
        typer.Option("--formal", help="treat replies as 处理意见书: also require the review-right statement"),
    ] = False,
    limit_days: Annotated[int, typer.Option("--limit-days", help="reply time limit in days")] = 60,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet (default: the first)")] = None,
) -> None:
    """Review the content and timing of each reply: answers the demand, facts, decision, basis, boilerplate, 60 days."""
    from xinfang.intake.files import read_table
    from xinfang.review.replies import review_table

    if not file.is_file():
        typer.echo(f"错误: 文件不存在: {file}", err=True)
        raise typer.Exit(2)
    table = read_table(file.read_bytes(), filename=file.name, sheet=sheet)
    result = review_table(table.rows, headers=table.headers, formal=formal, limit_days=limit_days)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    _print_summary(result["summary"])


def _print_summary(summary: dict[str, Any]) -> None:
    score = summary["score"]
    typer.echo(
        f"评查件数 {summary['n']}  平均分 {score['mean']}  中位数 {score['p50']}  (P10 {score['p10']}, P90 {score['p90']})"
    )
    typer.echo("分数分布: " + "  ".join(f"{k}:{v}" for k, v in score["histogram"].items()))
    from xinfang.review.rules import RULE_LABELS

    for rule, figures in summary["rules"].items():
        typer.echo(
            f"  {RULE_LABELS.get(rule, rule)} ({rule}): 不通过 {figures['failing']}/{figures['applicable']}"
            f" ({figures['share_failing']:.1%})"
        )
    agreement = summary.get("labelled_agreement")
    if agreement:
        for key in ("completeness", "explainability"):
            a = agreement[key]
            typer.echo(f"与人工标注一致性 {key}: n={a['n']} 准确率 {a['accuracy']} kappa {a['kappa']}")
