"""`xinfang org ...`: load the county's units and divisions from a file, write them back out, get the template.

Thin shell over xinfang.administration.organisation (format, validation and idempotence are described there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xinfang.cli import DbOption, handles_errors

org_app = typer.Typer(help="组织机构:导入、导出本县的单位与区划(乡镇、村)", no_args_is_help=True)


@org_app.command("import")
@handles_errors
def org_import(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="XLSX、CSV 或 YAML")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出导入报告")] = False,
    db: DbOption = None,
) -> None:
    """导入单位与区划:全部校验通过才写入(逐行报告错误),按代码新增或更新,重复导入不产生变化;记入审计日志。"""
    from xinfang.administration.organisation import import_organisation
    from xinfang.cli.imports import echo_report, import_as_system

    echo_report(import_as_system(db, file, import_organisation), as_json=as_json)


@org_app.command("export")
@handles_errors
def org_export(
    out: Annotated[Path, typer.Option("--out", help="输出文件:.xlsx 或 .yaml(可修改后用 org import 导入)")],
    db: DbOption = None,
) -> None:
    """导出当前的单位与区划,格式与 org import 相同。"""
    from xinfang.administration.organisation import export_organisation, write_export
    from xinfang.cli.admin import runtime_for
    from xinfang.security.actors import SYSTEM

    rt = runtime_for(db)
    try:
        with rt.session() as session:
            data = export_organisation(session, actor=SYSTEM)
    finally:
        rt.dispose()
    write_export(data, out)
    typer.echo(f"已导出单位 {len(data['units'])} 个、区划 {len(data['divisions'])} 个到 {out}")


@org_app.command("template")
@handles_errors
def org_template(
    out: Annotated[Path, typer.Option("--out", help="模板文件:.xlsx(含说明页)或 .yaml")],
) -> None:
    """写出导入模板(示例行与填写说明)。"""
    from xinfang.administration.organisation import template, write_export

    write_export(template(), out, readme=True)
    typer.echo(f"已写出模板 {out}")
