"""What the file-import commands share: run an importer as the system in one unit of work, print its report.

The importers (organisation, ledger sheets, petitions) validate the whole file before writing and report in one
frame (xinfang.intake.report), so the commands differ only in which importer they call and what they print.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from xinfang.intake.report import FileImportReport
    from xinfang.security.actors import Actor

ReportT = TypeVar("ReportT", bound="FileImportReport[Any]")
ReportT_co = TypeVar("ReportT_co", bound="FileImportReport[Any]", covariant=True)


class FileImporter(Protocol[ReportT_co]):
    """The importers' common signature (import_organisation, import_ledger): validate all, then write or not."""

    def __call__(
        self, session: Session, *, actor: Actor, data: bytes, filename: str, now: datetime
    ) -> ReportT_co: ...


def import_as_system(db: str | None, file: Path, importer: FileImporter[ReportT]) -> ReportT:
    """The importer on the file's bytes, as the system; a refused file is rolled back (all rows or none)."""
    from xinfang.cli.admin import runtime_for
    from xinfang.security.actors import SYSTEM

    rt = runtime_for(db)
    try:
        with rt.session() as session:
            report = importer(
                session, actor=SYSTEM, data=file.read_bytes(), filename=file.name, now=rt.clock.now()
            )
            if not report.ok:
                session.rollback()
    finally:
        rt.dispose()
    return report


def echo_report(report: FileImportReport[Any], *, as_json: bool) -> None:
    """The summary (or the whole report as JSON) on stdout; a refused file exits 2."""
    typer.echo(json.dumps(report.to_dict(), ensure_ascii=False) if as_json else report.summary())
    if not report.ok:
        raise typer.Exit(2)
