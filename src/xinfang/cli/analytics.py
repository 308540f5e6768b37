"""CLI for analytics: `xinfang hotspots FILE [--json]`, `xinfang report monthly --month YYYY-MM --out FILE`,
`xinfang hotspots-backfill` (assign petitions registered before the hot-matter slice existed),
`xinfang analytics rebuild-rollup [--check]` (recount the heat-map roll-up from the petitions table).

Registered in xinfang.cli.build_app with `analytics.register(app)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from xinfang.cli import DbOption, handles_errors

report_app = typer.Typer(help="分析报告(信访形势分析报告)", no_args_is_help=True)
analytics_app = typer.Typer(help="分析数据维护(热力图月度汇总表)", no_args_is_help=True)
TREND_LABELS = {"rising": "上升", "falling": "下降", "steady": "平稳"}


def register(app: typer.Typer) -> None:
    app.command("hotspots")(hotspots)
    app.command("hotspots-backfill")(hotspots_backfill)
    app.add_typer(report_app, name="report")
    app.add_typer(analytics_app, name="analytics")


@handles_errors
def hotspots(
    file: Annotated[
        Path,
        typer.Argument(
            help="留言 CSV/XLSX(text 或 title+body 或 留言主题+留言详情;id/留言编号;time/留言时间)"
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help='输出一个 JSON 对象 {"matters": [...]}')] = False,
    min_size: Annotated[int, typer.Option("--min-size", help="只列出至少这么多条留言的事项")] = 1,
    top: Annotated[int, typer.Option("--top", help="文本输出时列出的事项数")] = 30,
) -> None:
    """把文件中的留言聚成事项(热点问题),按热度排序输出。"""
    from xinfang.hotspots.files import hot_matters_of_file

    if not file.is_file():
        raise typer.BadParameter(f"文件不存在:{file}")
    matters = hot_matters_of_file(file, min_size=min_size)
    if as_json:
        typer.echo(json.dumps({"matters": matters}, ensure_ascii=False, default=str))
        return
    typer.echo(f"共 {sum(m['size'] for m in matters)} 条留言,{len(matters)} 个事项(按热度排序):")
    for i, m in enumerate(matters[:top], 1):
        typer.echo(
            f"{i:>3}. [{m['size']} 条 / {m['distinct_petitioners']} 人 / 热度 {m['heat']} / "
            f"{TREND_LABELS[m['trend']]}] {m['label']}  关键词:{'、'.join(m['key_terms'])}"
        )


@handles_errors
def hotspots_backfill(db: DbOption = None) -> None:
    """为尚未归入热点事项的信访件(批量导入的历史数据)逐件归类,按收到时间先后。"""
    from xinfang.cli.admin import runtime_for
    from xinfang.hotspots.service import assign_unassigned

    rt = runtime_for(db)
    try:
        with rt.session() as session:
            n = assign_unassigned(session, now=rt.clock.now())
        typer.echo(f"已归类 {n} 件")
    finally:
        rt.dispose()


@report_app.command("monthly")
@handles_errors
def report_monthly(
    month: Annotated[str, typer.Option("--month", help="月份 YYYY-MM")],
    out: Annotated[Path, typer.Option("--out", help="输出 .docx 文件")],
    db: DbOption = None,
) -> None:
    """生成某月的信访形势分析报告(.docx)。以系统身份运行,并记入审计日志。"""
    from xinfang.analytics.forecast import parse_month
    from xinfang.analytics.report import monthly_report
    from xinfang.cli.admin import runtime_for
    from xinfang.org.geography import county_name
    from xinfang.org.loader import read_county
    from xinfang.security.actors import SYSTEM

    rt = runtime_for(db)
    try:
        with rt.session() as session:
            body = monthly_report(
                session,
                actor=SYSTEM,
                month=parse_month(month),
                now=rt.clock.now(),
                county_name=county_name(session) or _county(read_county),  # imported county, else demo
            )
        out.write_bytes(body)
        typer.echo(f"已生成 {out}({len(body)} 字节)")
    finally:
        rt.dispose()


def _county(read_county: Any) -> str:
    try:
        return str(read_county()["county"]["name"])
    except (KeyError, TypeError, OSError):
        return "本县"


@analytics_app.command("rebuild-rollup")
@handles_errors
def rebuild_rollup(
    check: Annotated[bool, typer.Option("--check", help="只核对并报告不一致的单元,不写入")] = False,
    db: DbOption = None,
) -> None:
    """按信访件表重新统计热力图月度汇总表(按月×乡镇/村×分类×来源),只改写不一致的单元。

    汇总表在每次登记、导入、更正分类或属地时同步更新;绕过程序直接改库、批量 SQL 导入或恢复旧备份后运行本命令。
    最后一行输出一个 JSON 对象。"""
    from xinfang.analytics.rollup import rebuild
    from xinfang.cli.admin import runtime_for

    rt = runtime_for(db)
    try:
        with rt.session() as session:
            report = rebuild(session, check_only=check)
        if check:
            verdict = "一致" if report.differing == 0 else f"有 {report.differing} 个单元不一致"
        else:
            verdict = f"已修正 {report.differing} 个单元"
        typer.echo(f"汇总表 {report.cells} 个单元,{report.petitions} 件:{verdict}")
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        if check and report.differing:
            raise typer.Exit(1)
    finally:
        rt.dispose()
