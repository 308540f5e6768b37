"""Operations commands: backup, restore, key rotation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from xinfang.cli import DbOption, handles_errors

keys_app = typer.Typer(help="The personal-data key.", no_args_is_help=True)


@handles_errors
def backup_cmd(
    out: Annotated[Path, typer.Option("--out", help="the backup file to write (.tar.gz)")],
    db: DbOption = None,
) -> None:
    """Consistent online backup of the database and attachments (personal data stays encrypted)."""
    from xinfang.cli.admin import runtime_for
    from xinfang.ops.backup import backup
    from xinfang.store.migrate import current_revision

    rt = runtime_for(db)
    try:
        info = backup(
            database_url=rt.settings.database_url,
            attachments_dir=rt.settings.attachments_dir,
            out=out,
            now=rt.clock.now(),
            revision=current_revision(rt.engine),
            key_id=rt.settings.data_key_id,
        )
    finally:
        rt.dispose()  # no pooled connection may outlive the command (a restore replaces the files under it)
    typer.echo(json.dumps({"backup": str(info.path), **info.manifest}, ensure_ascii=False))


@handles_errors
def restore_cmd(
    archive: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    yes: Annotated[bool, typer.Option("--yes", help="confirm: the current database is replaced")] = False,
    db: DbOption = None,
) -> None:
    """Restore a backup over the current database (stop the app first)."""
    from xinfang.cli.admin import runtime_for
    from xinfang.ops.backup import restore

    if not yes:
        typer.echo("恢复会覆盖当前数据库,请确认后加 --yes 再运行", err=True)
        raise typer.Exit(2)
    rt = runtime_for(db)
    rt.dispose()
    manifest = restore(
        archive=archive, database_url=rt.settings.database_url, attachments_dir=rt.settings.attachments_dir
    )
    typer.echo(json.dumps({"restored": str(archive), **manifest}, ensure_ascii=False))


@keys_app.command("rotate")
@handles_errors
def keys_rotate(db: DbOption = None) -> None:
    """Re-encrypt personal data under XINFANG_DATA_KEY (old keys in XINFANG_OLD_DATA_KEYS) and rebuild indexes."""
    from xinfang.cli.admin import runtime_for
    from xinfang.ops.keys import rotate
    from xinfang.security.actors import SYSTEM

    rt = runtime_for(db)
    with rt.session() as session:
        counts = rotate(session, keyring=rt.keyring, actor=SYSTEM, now=rt.clock.now())
    typer.echo(json.dumps(counts))
