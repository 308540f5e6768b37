"""Prevention commands: the ledger's reminder/escalation scan, importing a township's ledger sheet, re-linking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from xinfang.cli import DbOption, handles_errors

prevention_app = typer.Typer(
    help="矛盾纠纷排查台账 and joint handling: reminders, import, linking.", no_args_is_help=True
)


@prevention_app.command("remind")
@handles_errors
def remind_cmd(
    db: DbOption = None,
    escalate_after: Annotated[int, typer.Option(help="days overdue before the county bureau is told")] = 7,
) -> None:
    """Remind units of due-soon/overdue ledger entries and co-handling tasks; escalate long-overdue entries to the
    county bureau (the worker does this daily; running it again sends nothing twice)."""
    from xinfang.cli.admin import runtime_for
    from xinfang.ops.scheduled import prevention_remind

    rt = runtime_for(db)
    try:
        counts = prevention_remind(rt, escalate_after_days=escalate_after)
    finally:
        rt.dispose()
    typer.echo(json.dumps(counts, ensure_ascii=False))


@prevention_app.command("import")
@handles_errors
def import_cmd(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="XLSX or CSV ledger sheet")],
    db: DbOption = None,
) -> None:
    """Import a township's ledger sheet as the system: all rows or none; failing rows are listed (exit 2)."""
    from xinfang.cli.imports import import_as_system
    from xinfang.prevention.importer import import_ledger

    report = import_as_system(db, path, import_ledger)
    if not report.ok:
        for e in report.errors[:100]:
            typer.echo(e.message, err=True)
        typer.echo(report.failure_line(), err=True)
        raise typer.Exit(2)
    typer.echo(report.done_line())


@prevention_app.command("link")
@handles_errors
def link_cmd(db: DbOption = None) -> None:
    """Link earlier petitions to ledger entries recorded after them (e.g. after a late import). Idempotent."""
    from xinfang.cli.admin import runtime_for
    from xinfang.prevention.linking import relink

    rt = runtime_for(db)
    try:
        with rt.session() as session:
            counts = relink(session, now=rt.clock.now())
    finally:
        rt.dispose()
    typer.echo(json.dumps(counts, ensure_ascii=False))
