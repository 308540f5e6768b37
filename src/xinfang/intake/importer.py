"""Importing a file of petitions into the database: all rows or none, reported row by row, idempotent.

Why all-or-nothing: a half-imported file is the worst outcome for a clerk (which rows are in? which to resend?).
Every row is validated first; if any row fails, nothing is written and every failing row is named. A valid file is
registered in one transaction through the same `register_petition` as the API, so imported petitions are analysed,
routed, encrypted and audited exactly like the others. Re-importing a file adds nothing: each row is keyed by its
source and external id, or by a content hash where the file has no id column.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.enums import Channel, OrgKind
from xinfang.cases.models import ImportBatch
from xinfang.cases.service import register_petition
from xinfang.errors import InvalidInput
from xinfang.intake.files import read_table
from xinfang.intake.mapping import ColumnMapping, RowError, builtin_profiles, load_mapping, parse_rows
from xinfang.intake.report import RowsImportReport
from xinfang.org.models import OrgUnit
from xinfang.runtime import Runtime
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.permissions import require


@dataclass(kw_only=True)
class ImportReport(RowsImportReport[RowError]):
    """A file of petitions: the feed it came from and how it was decoded, and the batch that now holds its rows."""

    source: str
    encoding: str | None
    batch_id: int | None = None

    error_lines: ClassVar[int] = 50

    def figures(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "encoding": self.encoding,
            **self.row_figures(),
            "batch_id": self.batch_id,
        }

    def failure_line(self) -> str:
        return f"{super().failure_line()}(共 {self.rows_total} 行)"

    def done_line(self) -> str:
        return (
            f"导入完成:共 {self.rows_total} 行,新增 {self.rows_added} 件,已存在 {self.rows_existing} 件"
            f"(编码 {self.encoding or 'xlsx'},来源 {self.source})"
        )


def resolve_mapping(profile: str) -> ColumnMapping:
    """A built-in profile by name, or a deployment's own mapping from a YAML file."""
    profiles = builtin_profiles()
    if profile in profiles:
        return profiles[profile]
    path = Path(profile)
    if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
        return load_mapping(path.read_text(encoding="utf-8"))
    raise InvalidInput(
        f"未知的列映射 {profile}(可用:{'、'.join(profiles)},或一个 YAML 文件)", code="intake.unknown_profile"
    )


def division_names(session: Session) -> dict[str, str]:
    """{place name: division code} from the organisation: townships by name, villages as 乡镇名+村名 and, where the
    bare village name is unique in the county, by that name too."""
    units = list(
        session.execute(
            select(OrgUnit).where(OrgUnit.kind.in_([OrgKind.TOWNSHIP, OrgKind.VILLAGE]))
        ).scalars()
    )
    towns = {u.id: u for u in units if u.kind == OrgKind.TOWNSHIP}
    names = {t.name: t.code for t in towns.values()}
    for t in towns.values():  # former names (光明乡 for 光明镇), as place recognition knows them
        for alias in t.aliases or ():
            names.setdefault(alias, t.code)
    village_count: dict[str, int] = {}
    for v in units:
        if v.kind == OrgKind.VILLAGE:
            village_count[v.name] = village_count.get(v.name, 0) + 1
    for v in units:
        if v.kind != OrgKind.VILLAGE:
            continue
        town = towns.get(v.parent_id or -1)
        if town:
            names[town.name + v.name] = v.code
        if village_count[v.name] == 1:
            names.setdefault(v.name, v.code)
    return names


def import_petitions(
    session: Session,
    *,
    runtime: Runtime,
    actor: Actor,
    data: bytes,
    filename: str,
    source: str,
    encoding: str | None = None,
    profile: str = "default",
    default_channel: str | None = None,
    lenient_contacts: bool = False,
) -> ImportReport:
    require(actor, "petition.import")
    if not source.strip():
        raise InvalidInput("必须指明数据来源(--source)", code="intake.source_required")
    settings = runtime.settings
    table = read_table(
        data,
        filename=filename,
        encoding=encoding,
        max_bytes=settings.max_upload_bytes,
        max_rows=settings.max_import_rows,
    )
    channel = Channel(default_channel) if default_channel else Channel.SYSTEM
    parsed = parse_rows(
        table,
        resolve_mapping(profile),
        source=source,
        default_channel=channel,
        divisions=division_names(session),
        lenient_contacts=lenient_contacts,
    )
    report = ImportReport(
        filename=filename,
        source=source,
        encoding=table.encoding,
        rows_total=len(table),
        errors=list(parsed.errors),
        warnings=list(parsed.warnings),
    )
    if parsed.errors:
        return report

    now = runtime.clock.now()
    batch = ImportBatch(
        source=source,
        filename=Path(filename).name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=table.encoding,
        rows_total=len(table),
        rows_added=0,
        created_at=now,
        actor_id=actor.user_id,
    )
    session.add(batch)
    session.flush()
    ctx = runtime.intake_context(session)
    for row in parsed.rows:
        _, created = register_petition(
            session,
            actor=actor,
            data=row.petition,
            now=now,
            ctx=ctx,
            default_source=source,
            import_batch_id=batch.id,
            dedup_by_content=True,
        )
        report.count(created)
    batch.rows_added = report.rows_added
    report.batch_id = batch.id
    audit.record(
        session,
        actor=actor,
        action="petition.import",
        at=now,
        object_type="import_batch",
        object_id=batch.id,
        details={"source": source, "rows": len(table), "added": report.rows_added, "sha256": batch.sha256},
    )
    return report
