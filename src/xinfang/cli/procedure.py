"""Procedure commands: statutory due dates and the reminder scan."""

from __future__ import annotations

import json
import warnings
from datetime import date
from typing import Annotated

import typer

from xinfang.cli import DbOption, handles_errors

calendar_app = typer.Typer(
    help="The work calendar (holidays and 调休) and statutory due dates.", no_args_is_help=True
)
clocks_app = typer.Typer(
    help="Statutory clocks: reminders of due-soon and overdue steps.", no_args_is_help=True
)


@calendar_app.command("due")
@handles_errors
def calendar_due(
    start: Annotated[
        str, typer.Option("--from", help="the event's date, YYYY-MM-DD (the period starts the day after)")
    ],
    days: Annotated[int, typer.Option(help="length of the period")],
    working: Annotated[
        bool, typer.Option("--working", help="count working days (skip weekends, holidays; count 调休)")
    ] = False,
) -> None:
    """Print the due date of a period under the regulation's rules (a calendar period ending on a rest day moves to
    the next working day)."""
    from xinfang.cases.calendar import CalendarCoverageWarning, load_calendar
    from xinfang.cases.deadlines import due_on

    try:
        day = date.fromisoformat(start)
    except ValueError:
        typer.echo("错误: --from 须为 YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CalendarCoverageWarning)
        due = due_on(day, days, working=working, calendar=load_calendar())
    typer.echo(due.isoformat())
    if any(issubclass(w.category, CalendarCoverageWarning) for w in caught):
        typer.echo("注意:期间涉及尚未载入节假日安排的年份,结果为暂定(按周一至周五计算)", err=True)


@clocks_app.command("remind")
@handles_errors
def clocks_remind(db: DbOption = None) -> None:
    """Notify units of their due-soon and overdue steps (the worker does this daily; running it again sends nothing
    twice)."""
    from xinfang.cli.admin import runtime_for
    from xinfang.ops.scheduled import clocks_remind

    counts = clocks_remind(runtime_for(db))
    typer.echo(json.dumps(counts, ensure_ascii=False))
