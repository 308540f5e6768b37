"""The `xinfang` command line: parse arguments, open one unit of work, call one service, print.

Every command takes `--db URL` (or XINFANG_DATABASE_URL); errors become a message on stderr and a non-zero exit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer

from xinfang.errors import XinfangError

app = typer.Typer(help="智慧信访 xinfang: petition registry, dispatch and handling.", no_args_is_help=True)
db_app = typer.Typer(help="Database: migrations.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo county (synthetic data, 演示数据).", no_args_is_help=True)
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")

DbOption = Annotated[
    str | None, typer.Option("--db", help="database URL (default: XINFANG_DATABASE_URL or ./xinfang.db)")
]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES = {"not_found": 3, "permission_denied": 4, "invalid_input": 2, "conflict": 5}


def exit_code(exc: XinfangError) -> int:
    """By the error's family (a RuleError is an InvalidInput: exit 2), not its specific code."""
    for klass in type(exc).__mro__:
        code = getattr(klass, "code", None)
        if code in EXIT_CODES:
            return EXIT_CODES[code]
    return 1


def handles_errors(func: F) -> F:
    """Turn domain errors into one line on stderr and an exit code, instead of a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except XinfangError as exc:
            typer.echo(f"错误 [{exc.code}]: {exc.message}", err=True)
            raise typer.Exit(exit_code(exc)) from None

    return wrapper  # type: ignore[return-value]


_built = False


def build_app() -> typer.Typer:
    """Attach every command group (once). Done on call, not import, so importing the CLI stays cheap."""
    global _built
    if not _built:
        from xinfang.cli import admin, dispatch, procedure

        admin.register(app, db_app=db_app, demo_app=demo_app, user_app=user_app, audit_app=audit_app)
        app.add_typer(procedure.calendar_app, name="calendar")
        from xinfang.cli import ops

        app.command("backup")(ops.backup_cmd)
        app.command("restore")(ops.restore_cmd)
        app.add_typer(ops.keys_app, name="keys")
        app.add_typer(procedure.clocks_app, name="clocks")
        app.command("route")(dispatch.route)
        app.add_typer(dispatch.model_app, name="model")
        app.add_typer(dispatch.rules_app, name="rules")
        from xinfang.cli.org import org_app

        app.add_typer(org_app, name="org")
        from xinfang.cli import analytics as analytics_cli

        analytics_cli.register(app)
        from xinfang.cli import jobs as jobs_cli
        from xinfang.cli import referrals as referrals_cli

        app.command("worker")(jobs_cli.worker)
        app.add_typer(jobs_cli.jobs_app, name="jobs")
        app.add_typer(referrals_cli.referrals_app, name="referrals")
        from xinfang.cli import review as review_cli

        app.add_typer(review_cli.review_app, name="review")
        from xinfang.cli import alerts as alerts_cli

        app.add_typer(alerts_cli.alerts_app, name="alerts")
        from xinfang.cli.prevention import prevention_app

        app.add_typer(prevention_app, name="prevention")
        from xinfang.cli.ocr import ocr as ocr_cmd

        app.command("ocr")(ocr_cmd)
        _built = True
    return app


def main() -> None:
    build_app()(prog_name="xinfang")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
