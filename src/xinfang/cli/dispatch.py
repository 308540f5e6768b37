"""CLI for intelligent dispatch: `xinfang route`, `xinfang model ...` (train, eval, export-history, compare,
activate, rollback, status), `xinfang rules ...`.

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
    model_dir: Annotated[
        Path | None, typer.Option("--model", help="模型目录(默认为正在使用的模型,见 model status)")
    ] = None,
) -> None:
    """分析一件信访内容并推荐承办部门(内置职责清单与演示县组织机构),输出一个 JSON 对象。"""
    from xinfang.routing.model_store import active_model
    from xinfang.routing.pipeline import DispatchPipeline, default_paths

    if (text is None) == (file is None):
        raise typer.BadParameter("请提供 TEXT 或 --file 之一")
    body = file.read_text(encoding="utf-8") if file is not None else (text or "")
    ref = date.fromisoformat(reference_date) if reference_date else None
    if model_dir is None:
        model_dir = active_model(_runtime(None).settings.model_dir).path
    if model_dir == active_model(None).path:
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
    data: Annotated[
        list[Path],
        typer.Option(
            "--data",
            help="训练数据 CSV/XLSX,可多次指定:model export-history 导出的文件,或开发用的留言数据(text 或 title+body、label 列)",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="候选模型的输出目录(默认为 XINFANG_MODEL_DIR 下的 candidates/时间;不能是内置模型或已启用的模型)",
        ),
    ] = None,
    corrections: Annotated[
        Path | None, typer.Option("--corrections", help="人工纠正 CSV/XLSX(文本列 + 标签列)")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="也使用该数据库中记录的人工分类纠正(数据库 URL)")
    ] = None,
    eval_file: Annotated[
        Path | None, typer.Option("--eval", help="训练后在这份带标签的文件上评估,结果写入模型说明")
    ] = None,
) -> None:
    """训练候选分类模型:写入一个新目录,从不覆盖内置模型或正在使用的模型;之后用 model compare 比较、model activate 启用。"""
    from xinfang.cli import handles_errors

    handles_errors(_train)(data, out, corrections, db, eval_file)


def _train(
    data: list[Path], out: Path | None, corrections: Path | None, db: str | None, eval_file: Path | None
) -> None:
    from xinfang.errors import InvalidInput
    from xinfang.routing import model_store
    from xinfang.routing.dataset import read_labelled
    from xinfang.routing.training import evaluate, train

    rt = _runtime(db)
    settings, now = rt.settings, rt.clock.now()
    target = out or model_store.candidate_dir(_models_root(settings), now)
    if model_store.is_protected(target, settings.model_dir):
        raise InvalidInput(
            f"不能写入 {target}:这是内置模型或已启用的模型目录,请用 --out 指定新的目录",
            code="model.protected_dir",
        )
    if target.exists() and any(target.iterdir()):
        raise InvalidInput(f"输出目录 {target} 已存在且不为空,请指定新的目录", code="model.out_not_empty")
    missing = [str(p) for p in data if not p.is_file()]
    if missing:
        raise InvalidInput(f"训练数据文件不存在: {', '.join(missing)}", code="model.data_missing")
    fixes = [(d.text or "", d.label) for d in read_labelled(corrections)] if corrections else []
    if db is not None:
        fixes += _database_corrections(db)
    model, description = train(data, corrections=fixes)
    metadata: dict[str, Any] = {
        "training_data": description,
        "trained_at": now.isoformat(),
        "trained_by": "xinfang model train",
    }
    if eval_file is not None:
        metadata["metrics"] = {"eval": {"file": eval_file.name, **evaluate(model, eval_file)}}
    model.save(target, metadata=metadata)
    _print_json({"saved": str(target), "model_version": model.version(), **description})


def _models_root(settings: Any) -> Path:
    """XINFANG_MODEL_DIR, else models/ beside the attachments (the deployment's data folder)."""
    return Path(settings.model_dir or Path(settings.attachments_dir).parent / "models")


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


@model_app.command("eval")
def eval_command(
    file: Annotated[Path, typer.Argument(help="带标签的 CSV/XLSX")],
    as_json: Annotated[bool, typer.Option("--json", help="输出一个 JSON 对象")] = False,
    model_dir: Annotated[Path | None, typer.Option("--model", help="模型目录(默认为正在使用的模型)")] = None,
) -> None:
    """在带标签的数据上评估模型:准确率、宏 F1、各类指标与混淆矩阵。"""
    from xinfang.routing.model import CategoryModel
    from xinfang.routing.model_store import active_model
    from xinfang.routing.training import evaluate

    model = CategoryModel.load(model_dir or active_model(_runtime(None).settings.model_dir).path)
    result = {"model_version": model.version(), **evaluate(model, file)}
    if as_json:
        _print_json(result)
        return
    typer.echo(f"n={result['n']}  accuracy={result['accuracy']}  macro_f1={result['macro_f1']}")
    for label, m in result["per_class"].items():
        typer.echo(
            f"  {label:<10} P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f} n={m['support']}"
        )


@model_app.command("export-history")
def export_history_command(
    out: Annotated[Path, typer.Option("--out", help="输出的 CSV 文件(可直接用于 model train --data)")],
    since: Annotated[
        str | None, typer.Option("--since", help="只导出该日(YYYY-MM-DD)及以后收到的信访件")
    ] = None,
    concluded_only: Annotated[bool, typer.Option("--concluded-only", help="只导出已办结的信访件")] = False,
    reviewed_only: Annotated[
        bool,
        typer.Option("--reviewed-only", help="不导出分类只是系统建议、无人更改的信访件(label_source=model)"),
    ] = False,
    db: Annotated[str | None, typer.Option("--db", help="数据库 URL")] = None,
) -> None:
    """把本地信访件导出为训练数据:标题、内容(身份证号、电话已打码)与最终分类(含人工纠正),记入审计日志。"""
    from xinfang.cli import handles_errors
    from xinfang.dispatch.model_admin import LABEL_SOURCES, export_history
    from xinfang.errors import InvalidInput
    from xinfang.security.actors import SYSTEM

    @handles_errors
    def run() -> dict[str, Any]:
        try:
            start = date.fromisoformat(since) if since else None
        except ValueError:
            raise InvalidInput(f"日期格式应为 YYYY-MM-DD: {since}", code="model.bad_date") from None
        sources = tuple(s for s in LABEL_SOURCES if not (reviewed_only and s == "model"))
        rt = _runtime(db)
        try:
            with rt.session() as session:
                return export_history(
                    session,
                    actor=SYSTEM,
                    out=out,
                    now=rt.clock.now(),
                    since=start,
                    concluded_only=concluded_only,
                    sources=sources,
                )
        finally:
            rt.dispose()

    _print_json(run())


@model_app.command("compare")
def compare_command(
    file: Annotated[Path, typer.Argument(help="评估用的带标签 CSV/XLSX(不要与训练数据重叠)")],
    candidate: Annotated[Path, typer.Option("--candidate", help="候选模型目录(model train 的输出)")],
    current: Annotated[
        Path | None, typer.Option("--current", help="对照的模型目录(默认为正在使用的模型)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出一个 JSON 对象")] = False,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="按该数据库的职责清单和组织机构计算首位建议单位(默认 XINFANG_DATABASE_URL)"
        ),
    ] = None,
) -> None:
    """在同一份评估数据上比较当前模型与候选模型:准确率、宏 F1、各类 F1、首位建议单位改变的比例和结论。"""
    from xinfang.cli import handles_errors

    handles_errors(_compare)(file, candidate, current, as_json, db)


def _compare(file: Path, candidate: Path, current: Path | None, as_json: bool, db: str | None) -> None:
    from xinfang.routing.compare import compare_models
    from xinfang.routing.dataset import dedupe, read_labelled
    from xinfang.routing.model import CategoryModel
    from xinfang.routing.model_store import active_model
    from xinfang.routing.pipeline import DispatchPipeline

    rt = _runtime(db)
    try:
        base, routed_with = _routing_base(rt, explicit=db is not None)
    finally:
        rt.dispose()
    current_dir = current or active_model(rt.settings.model_dir).path
    docs = dedupe(read_labelled(file))

    def with_model(folder: Path) -> DispatchPipeline:
        model = CategoryModel.load(folder)
        return DispatchPipeline(model, base.router, base.gazetteer, model.version())

    result = compare_models(with_model(current_dir), with_model(candidate), docs)
    result = {
        "file": file.name,
        "current_dir": str(current_dir),
        "candidate_dir": str(candidate),
        "routed_with": routed_with,
        **result,
    }
    if as_json:
        _print_json(result)
        return
    _print_comparison(result)


def _routing_base(rt: Any, *, explicit: bool) -> tuple[Any, str]:
    """The rules and organisation to route with: the database's (when one is configured) or the shipped ones."""
    from xinfang.dispatch.engine import shipped_pipeline

    if not explicit and "database_url" not in rt.settings.model_fields_set:
        return shipped_pipeline(), "shipped"
    from xinfang.dispatch.service import pipeline_for

    with rt.session() as session:
        return pipeline_for(session), "database"


def _print_comparison(r: dict[str, Any]) -> None:
    cur, cand = r["current"], r["candidate"]
    typer.echo(f"评估文件 {r['file']}:{r['n']} 条")
    typer.echo(f"{'':<14}{'当前模型':<20}{'候选模型':<20}")
    typer.echo(f"{'模型版本':<12}{cur['model_version']:<24}{cand['model_version']:<24}")
    typer.echo(f"{'准确率':<13}{cur['accuracy']:<24.4f}{cand['accuracy']:<24.4f}")
    typer.echo(f"{'宏平均F1':<12}{cur['macro_f1']:<24.4f}{cand['macro_f1']:<24.4f}")
    typer.echo("各类 F1:")
    for label in sorted(set(cur["per_class_f1"]) | set(cand["per_class_f1"])):
        n = max(cur["support"].get(label, 0), cand["support"].get(label, 0))
        typer.echo(
            f"  {label:<10} {cur['per_class_f1'].get(label, 0.0):.4f} → "
            f"{cand['per_class_f1'].get(label, 0.0):.4f}  (n={n})"
        )
    top = r["top_department"]
    if top["n_routed"]:
        typer.echo(f"首位建议单位将改变:{top['n_changed']} / {top['n_routed']} 条({top['share']:.1%})")
    typer.echo(f"结论:{r['message']}")


@model_app.command("activate")
def activate_command(
    candidate: Annotated[Path, typer.Argument(help="要启用的模型目录(model train 的输出)")],
    db: Annotated[str | None, typer.Option("--db", help="数据库 URL(记入审计日志)")] = None,
) -> None:
    """启用一个模型:复制到 XINFANG_MODEL_DIR 并原子切换,原模型保留为 previous;各服务进程在下一次请求时改用新模型。"""
    from xinfang.dispatch.model_admin import activate_model

    _switch(
        lambda session, rt: activate_model(
            session, actor=_system(), model_dir=rt.settings.model_dir, candidate=candidate, now=rt.clock.now()
        ),
        db,
    )


@model_app.command("rollback")
def rollback_command(
    db: Annotated[str | None, typer.Option("--db", help="数据库 URL(记入审计日志)")] = None,
) -> None:
    """恢复上一次启用之前的模型(再运行一次则又换回来)。"""
    from xinfang.dispatch.model_admin import rollback_model

    _switch(
        lambda session, rt: rollback_model(
            session, actor=_system(), model_dir=rt.settings.model_dir, now=rt.clock.now()
        ),
        db,
    )


def _system() -> Any:
    from xinfang.security.actors import SYSTEM

    return SYSTEM


def _switch(action: Any, db: str | None) -> None:
    from xinfang.cli import handles_errors

    @handles_errors
    def run() -> dict[str, Any]:
        rt = _runtime(db)
        try:
            with rt.session() as session:
                return action(session, rt)  # type: ignore[no-any-return]
        finally:
            rt.dispose()

    result = run()
    _print_json(result)
    typer.echo(f"正在使用的模型:{result['model_version']}(各服务进程在下一次请求时生效)", err=True)


@model_app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="输出一个 JSON 对象")] = False,
) -> None:
    """显示正在使用的模型(目录、版本、训练时间、数据量、评估指标)和可回退的上一个模型。"""
    from xinfang.routing.model_store import status

    info = status(_runtime(None).settings.model_dir)
    if as_json:
        _print_json(info)
        return
    for title, m in (("正在使用", info["active"]), ("上一个(rollback 可恢复)", info["previous"])):
        if m is None:
            continue
        source = "内置" if m["source"] == "packaged" else "本地"
        typer.echo(f"{title}:{m['model_version']}({source},{m['path']})")
        typer.echo(f"  训练时间 {m['trained_at'] or '随系统提供'},训练文档 {m['n_documents']} 条")
        for name, fig in m["metrics"].items():
            typer.echo(f"  评估 {name}:n={fig['n']} 准确率={fig['accuracy']} 宏平均F1={fig['macro_f1']}")


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
