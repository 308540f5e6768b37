"""`xinfang alerts scan` (run the early-warning scan, upsert alerts) and `xinfang alerts deliver` (push the outbox)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Annotated

import typer

from xinfang.cli import DbOption, handles_errors

alerts_app = typer.Typer(help="Early-warning alerts (预警): scan and push.", no_args_is_help=True)


@alerts_app.command("scan")
@handles_errors
def scan(
    db: DbOption = None,
    day: Annotated[
        str | None, typer.Option("--date", help="scan this local date (default: yesterday)")
    ] = None,
    replicates: Annotated[
        int | None, typer.Option(help="Monte Carlo replicates of the scan statistic")
    ] = None,
    county: Annotated[
        str | None,
        typer.Option(help="6-digit county code: scan only that county (a database holding several counties)"),
    ] = None,
) -> None:
    """Run the warning scan for one day and print a JSON report (counts only)."""
    from xinfang.analytics.warning.combine import WarningConfig
    from xinfang.cli.admin import runtime_for
    from xinfang.ops.scheduled import alerts_scan

    rt = runtime_for(db)
    config = WarningConfig()
    if replicates:
        config = dataclasses.replace(config, scan_replicates=replicates)
    report = alerts_scan(rt, day=date.fromisoformat(day) if day else None, config=config, county=county)
    typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))


@alerts_app.command("deliver")
@handles_errors
def deliver(db: DbOption = None) -> None:
    """Send due deliveries of the outbox once (retries wait for their back-off); print what happened."""
    from xinfang.cli.admin import runtime_for
    from xinfang.ops.scheduled import alerts_deliver

    report = alerts_deliver(runtime_for(db))
    typer.echo(json.dumps(dataclasses.asdict(report)))
