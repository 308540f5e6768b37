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
    from xinfang.alerts.service import run_warning_scan
    from xinfang.analytics.warning.combine import WarningConfig
    from xinfang.cli.admin import runtime_for

    rt = runtime_for(db)
    config = WarningConfig()
    if replicates:
        config = dataclasses.replace(config, scan_replicates=replicates)
    with rt.session() as session:
        report = run_warning_scan(
            session,
            now=rt.clock.now(),
            config=config,
            day=date.fromisoformat(day) if day else None,
            channels=rt.settings.alert_channels,
            county=county,
        )
    typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))


@alerts_app.command("deliver")
@handles_errors
def deliver(db: DbOption = None) -> None:
    """Send due deliveries of the outbox once (retries wait for their back-off); print what happened."""
    from xinfang.alerts.service import deliver_pending
    from xinfang.cli.admin import runtime_for

    rt = runtime_for(db)
    with rt.session() as session:
        report = deliver_pending(
            session,
            now=rt.clock.now(),
            channels=rt.settings.alert_channels,
            base_url=rt.settings.public_base_url,
        )
    typer.echo(json.dumps(dataclasses.asdict(report)))
