"""Administration commands: database, demo county, users, import, audit, serving."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from xinfang.cases.enums import Role
from xinfang.cli import DbOption, handles_errors
from xinfang.config import Settings
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM

console = Console(stderr=True)


def runtime_for(db: str | None, **overrides: object) -> Runtime:
    settings = Settings(**({"database_url": db} if db else {}), **overrides)  # type: ignore[arg-type]
    return Runtime(settings=settings)


def register(
    app: typer.Typer,
    *,
    db_app: typer.Typer,
    demo_app: typer.Typer,
    user_app: typer.Typer,
    audit_app: typer.Typer,
) -> None:
    db_app.command("upgrade")(db_upgrade)
    demo_app.command("load")(demo_load)
    demo_app.command("run")(demo_run)
    user_app.command("add")(user_add)
    audit_app.command("verify")(audit_verify)
    app.command("serve")(serve)
    app.command("import")(import_file)


@handles_errors
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the database schema to the latest version."""
    from xinfang.store.migrate import current_revision, upgrade

    rt = runtime_for(db)
    upgrade(rt.engine)
    typer.echo(f"database at revision {current_revision(rt.engine)}")


@handles_errors
def demo_load(
    db: DbOption = None,
    seed: Annotated[int, typer.Option(help="random seed of the synthetic history")] = 2026,
    scale: Annotated[
        float, typer.Option(help="volume multiplier (1.0 ≈ 2,000 records over 12 months)")
    ] = 1.0,
) -> None:
    """Load the demo county: organisation, demo users and 12 months of synthetic petitions (演示数据)."""
    from xinfang.demo.loader import load_demo
    from xinfang.store.migrate import upgrade

    rt = runtime_for(db)
    upgrade(rt.engine)
    with console.status("正在生成演示县数据…"):
        report = load_demo(rt, seed=seed, scale=scale)
    typer.echo(json.dumps(report, ensure_ascii=False))


@handles_errors
def demo_run(
    db: DbOption = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Set up (migrate, load the demo county once) and serve the web app — what `make demo` runs."""
    from xinfang.demo.loader import DEMO_LOGINS, demo_loaded, load_demo
    from xinfang.store.migrate import upgrade

    rt = runtime_for(db, demo_label=True)
    upgrade(rt.engine)
    if not demo_loaded(rt):
        with console.status("首次运行:正在生成演示县数据(约半分钟)…"):
            load_demo(rt)
    rt.dispose()
    console.print(
        f"\n[bold]智慧信访演示[/bold] 已启动: http://{host}:{port}/  (API 文档: http://{host}:{port}/docs)"
    )
    console.print("演示账号 (用户名 / 密码):")
    for username, password, label in DEMO_LOGINS:
        console.print(f"  {username:<11} / {password:<16} {label}")
    console.print("按 Ctrl+C 停止。数据为合成的演示数据。\n")
    _serve(rt.settings, host, port, with_worker=True)


@handles_errors
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker",
            help="also run the background job worker in this process (a single server without `xinfang worker`)",
        ),
    ] = False,
) -> None:
    """Serve the web app and API."""
    rt = runtime_for(db)
    _serve(rt.settings, host, port, workers=workers, with_worker=with_worker)


def _serve(settings: Settings, host: str, port: int, workers: int = 1, with_worker: bool = False) -> None:
    import os

    import uvicorn

    # Child worker processes rebuild the app from the environment: pass the chosen settings down that way.
    os.environ["XINFANG_DATABASE_URL"] = settings.database_url
    os.environ["XINFANG_DEMO_LABEL"] = "true" if settings.demo_label else "false"
    # log_config=None: uvicorn's own records (errors, tracebacks) propagate to the root logger, which
    # xinfang.web.asgi sets up with the redacting JSON handlers (ops.logs), instead of going out unmasked.
    stop = _start_background_worker(settings) if with_worker else None
    try:
        from xinfang.web.transport import NoDelayH11Protocol

        uvicorn.run(
            "xinfang.web.asgi:app",
            http=NoDelayH11Protocol,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            log_config=None,
        )
    finally:
        if stop is not None:
            stop()


def _start_background_worker(settings: Settings) -> Any:
    """The job worker on a thread beside the web server: enrichment after intake, deliveries, OCR, clean-up.
    Returns a function that stops it. A larger installation runs `xinfang worker` as its own service instead."""
    import threading

    from xinfang.cli.jobs import make_worker
    from xinfang.runtime import Runtime

    rt = Runtime(settings=settings)
    w = make_worker(rt)
    thread = threading.Thread(target=w.run_forever, name="xinfang-worker", daemon=True)
    thread.start()

    def stop() -> None:
        w.stop.set()
        thread.join(timeout=30)
        rt.dispose()

    return stop


@handles_errors
def user_add(
    name: Annotated[str, typer.Argument(help="username")],
    role: Annotated[Role, typer.Option(help="registrar|handler|supervisor|leader|admin")],
    department: Annotated[
        str | None, typer.Option(help="code of the user's unit (required for handlers)")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
    display_name: Annotated[str | None, typer.Option()] = None,
    db: DbOption = None,
) -> None:
    """Create a staff account."""
    from xinfang.org.service import create_user

    if not password_stdin:
        password = typer.prompt("密码", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    rt = runtime_for(db)
    with rt.session() as session:
        user = create_user(
            session,
            actor=SYSTEM,
            username=name,
            password=password,
            role=role,
            now=rt.clock.now(),
            display_name=display_name,
            org_code=department,
        )
        typer.echo(f"created user {user.username} ({role.value})")


@handles_errors
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    source: Annotated[str, typer.Option(help="name of the feed or system the file comes from")],
    encoding: Annotated[
        str | None, typer.Option(help="CSV encoding (utf-8, gbk, gb18030); detected if omitted")
    ] = None,
    profile: Annotated[
        str, typer.Option(help="column mapping profile (default, hotline12345) or a YAML file")
    ] = "default",
    channel: Annotated[str | None, typer.Option(help="channel for rows that do not name one")] = None,
    lenient_contacts: Annotated[
        bool,
        typer.Option(help="drop an invalid ID number or phone with a warning instead of refusing the row"),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    db: DbOption = None,
) -> None:
    """Import petitions from CSV (UTF-8/GBK/GB18030) or XLSX: all rows or none; re-importing adds nothing."""
    from xinfang.cli.imports import echo_report
    from xinfang.intake.importer import import_petitions

    rt = runtime_for(db)
    with rt.session() as session:
        report = import_petitions(
            session,
            runtime=rt,
            actor=SYSTEM,
            data=file.read_bytes(),
            filename=file.name,
            source=source,
            encoding=encoding,
            profile=profile,
            default_channel=channel,
            lenient_contacts=lenient_contacts,
        )
    echo_report(report, as_json=as_json)


@handles_errors
def audit_verify(db: DbOption = None) -> None:
    """Recompute the audit chain; exit 1 and name the first bad entry if anything was altered."""
    from xinfang.security.audit import verify

    rt = runtime_for(db)
    with rt.session() as session:
        result = verify(session)
    if result.ok:
        typer.echo(f"audit log intact: {result.checked} entries verified")
        return
    typer.echo(f"audit log TAMPERED at entry seq={result.first_bad_seq}: {result.reason}", err=True)
    raise typer.Exit(1)
