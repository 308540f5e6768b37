"""CLI for intelligent dispatch: `xinfang route`, `xinfang model train`, `xinfang model eval`.

Thin shell: parse arguments, call one function of xinfang.routing, print JSON. Registered by the lead in
xinfang.cli as `app.command("route")(dispatch.route)` and `app.add_typer(dispatch.model_app, name="model")`.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

model_app = typer.Typer(help="训练与评估内容分类模型", no_args_is_help=True)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


def route(
    text: Annotated[str | None, typer.Argument(help="信访内容(标题与正文;也可用 --file)")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="从 UTF-8 文本文件读取内容")] = None,
    title: Annotated[str, typer.Option("--title", help="信访标题")] = "",
    reference_date: Annotated[
        str | None, typer.Option("--reference-date", help="相对日期的参照日 YYYY-MM-DD")
    ] = None,
    model_dir: Annotated[Path | None, typer.Option("--model", help="模型目录(默认为内置模型)")] = None,
) -> None:
    """分析一件信访内容并推荐承办部门,输出一个 JSON 对象。"""
    from xinfang.routing.pipeline import DispatchPipeline, default_paths

    if (text is None) == (file is None):
        raise typer.BadParameter("请提供 TEXT 或 --file 之一")
    body = file.read_text(encoding="utf-8") if file is not None else (text or "")
    ref = date.fromisoformat(reference_date) if reference_date else None
    if model_dir is None:
        pipeline = DispatchPipeline.load_default()
    else:
        paths = default_paths()
        pipeline = DispatchPipeline.from_paths(
            model_dir=model_dir,
            rules=paths["rules"],
            departments=paths["departments"],
            county=paths["county"],
            national=paths["national"],
        )
    _print_json(pipeline.analyse(title, body, reference_date=ref))


@model_app.command("train")
def train_command(
    data: Annotated[list[Path] | None, typer.Option("--data", help="训练数据 CSV/XLSX,可多次指定")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="模型输出目录(默认为内置模型目录)")] = None,
    corrections: Annotated[
        Path | None, typer.Option("--corrections", help="人工纠正 CSV/XLSX(文本列 + 标签列)")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="也使用该数据库中记录的人工分类纠正(数据库 URL)")
    ] = None,
) -> None:
    """训练分类模型;默认使用 ../shared/data 中的留言数据,加上 --corrections 文件与 --db 中的人工纠正。"""
    from xinfang.routing.dataset import read_labelled
    from xinfang.routing.pipeline import default_paths
    from xinfang.routing.training import train

    files = list(data or _default_training_files())
    if not files:
        raise typer.BadParameter("未找到训练数据,请用 --data 指定")
    fixes = [(d.text or "", d.label) for d in read_labelled(corrections)] if corrections else []
    if db is not None:
        fixes += _database_corrections(db)
    model, description = train(files, corrections=fixes)
    target = out or default_paths()["model_dir"]
    model.save(target, metadata={"training_data": description})
    _print_json({"saved": str(target), "model_version": model.version(), **description})


def _database_corrections(db: str) -> list[tuple[str, str]]:
    """Every category correction clerks recorded (the latest per petition), as (text, label)."""
    from xinfang.dispatch.service import corrections_for_training

    rt = _runtime(db)
    try:
        with rt.session() as session:
            return corrections_for_training(session)
    finally:
        rt.dispose()


def _runtime(db: str | None) -> Any:
    from xinfang.cli.admin import runtime_for

    return runtime_for(db)


def _default_training_files() -> list[Path]:
    root = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "teddy2020c"
    names = ("messages_tokenized_train.csv", "messages_raw_labeled.csv")
    return [root / n for n in names if (root / n).exists()]


@model_app.command("eval")
def eval_command(
    file: Annotated[Path, typer.Argument(help="带标签的 CSV/XLSX")],
    as_json: Annotated[bool, typer.Option("--json", help="输出一个 JSON 对象")] = False,
    model_dir: Annotated[Path | None, typer.Option("--model", help="模型目录(默认为内置模型)")] = None,
) -> None:
    """在带标签的数据上评估模型:准确率、宏 F1、各类指标与混淆矩阵。"""
    from xinfang.routing.model import CategoryModel
    from xinfang.routing.pipeline import default_paths
    from xinfang.routing.training import evaluate

    model = CategoryModel.load(model_dir or default_paths()["model_dir"])
    result = {"model_version": model.version(), **evaluate(model, file)}
    if as_json:
        _print_json(result)
        return
    typer.echo(f"n={result['n']}  accuracy={result['accuracy']}  macro_f1={result['macro_f1']}")
    for label, m in result["per_class"].items():
        typer.echo(
            f"  {label:<10} P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f} n={m['support']}"
        )


rules_app = typer.Typer(help="职责清单与关键词库:导出为 YAML、从 YAML 导入为新版本", no_args_is_help=True)


@rules_app.command("export")
def rules_export(
    db: Annotated[str | None, typer.Option("--db", help="数据库 URL")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="输出 YAML 文件(默认打印)")] = None,
) -> None:
    """导出当前生效的职责清单(数据库中的生效版本,否则为内置文件)为可编辑的 YAML。"""
    import yaml

    from xinfang.dispatch.service import active_rules

    rt = _runtime(db)
    try:
        with rt.session() as session:
            content = active_rules(session).content
    finally:
        rt.dispose()
    text = yaml.safe_dump(content, allow_unicode=True, sort_keys=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")


@rules_app.command("import")
def rules_import(
    file: Annotated[Path, typer.Argument(help="职责清单 YAML 文件")],
    db: Annotated[str | None, typer.Option("--db", help="数据库 URL")] = None,
    comment: Annotated[str, typer.Option("--comment", help="本次修改说明")] = "",
) -> None:
    """校验 YAML(未知部门、空规则、冲突规则)并保存为新的生效版本(以系统身份,记入审计日志)。"""
    from xinfang.cli import handles_errors
    from xinfang.dispatch.service import save_rules
    from xinfang.security.actors import SYSTEM

    @handles_errors
    def run() -> dict[str, Any]:
        rt = _runtime(db)
        try:
            with rt.session() as session:
                version = save_rules(
                    session,
                    actor=SYSTEM,
                    content=file.read_text(encoding="utf-8"),
                    comment=comment or f"导入 {file.name}",
                    now=rt.clock.now(),
                )
                return {"version": version.number, "active": True}
        finally:
            rt.dispose()

    _print_json(run())
