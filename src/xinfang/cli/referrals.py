"""访调诉 commands: poll the platforms for statuses (fallback for missed callbacks), list referrals."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from xinfang.cli import DbOption, handles_errors

referrals_app = typer.Typer(help="访调诉: referrals to mediation and the court.", no_args_is_help=True)


@referrals_app.command("poll")
@handles_errors
def poll(db: DbOption = None) -> None:
    """Ask each platform for the status of every open referral and apply what changed (the worker does this
    every hour by default)."""
    from xinfang.cli.admin import runtime_for
    from xinfang.ops.scheduled import referrals_poll

    rt = runtime_for(db)
    try:
        counts = referrals_poll(rt)
    finally:
        rt.dispose()
    typer.echo(json.dumps(counts))


@referrals_app.command("list")
@handles_errors
def list_open(
    db: DbOption = None,
    status: Annotated[str | None, typer.Option(help="e.g. delivery_failed, manual, sent")] = None,
) -> None:
    """List referrals (id, petition number, platform, kind, status) as JSON lines; no personal data."""
    from xinfang.cli.admin import runtime_for
    from xinfang.referrals.service import list_referrals
    from xinfang.security.actors import SYSTEM

    rt = runtime_for(db)
    with rt.session() as session:
        for r in list_referrals(session, actor=SYSTEM, status=status):
            typer.echo(
                json.dumps(
                    {
                        "id": r.id,
                        "number": r.petition.number,
                        "platform": r.platform,
                        "kind": r.kind,
                        "status": r.status,
                        "remote_id": r.remote_id,
                    },
                    ensure_ascii=False,
                )
            )
