"""Consistent online backups and restores, for SQLite and PostgreSQL, of the database and the attachment store.

A backup is one .tar.gz: `manifest.json` (format, database kind, migration revision, time, key id — never a key),
`database.sqlite` (SQLite's online backup API: a consistent copy while the app keeps running) or `database.pgdump`
(pg_dump custom format, a consistent snapshot), and `attachments/` (the content-addressed files, which never
change once written). Personal data stays SM4-encrypted inside: a backup holds no ID number or phone in plain text,
and restoring it needs the deployment's key.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from xinfang.errors import InvalidInput

FORMAT = "xinfang-backup-1"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    manifest: dict[str, Any]


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    options = u.query.get("options")
    if options:
        option = options if isinstance(options, str) else options[0]
        env["PGOPTIONS"] = option
        # A deployment living in its own schema (search_path) backs up and restores that schema only.
        if "search_path=" in option:
            args += ["-n", option.split("search_path=", 1)[1].split()[0].split(",")[0]]
    return [*args, "-d", u.database or "postgres"], env


def backup(
    *, database_url: str, attachments_dir: Path, out: Path, now: datetime, revision: str | None, key_id: str
) -> BackupInfo:
    url = make_url(database_url)
    with tempfile.TemporaryDirectory(prefix="xf-backup-") as tmp:
        work = Path(tmp)
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(Path(url.database or ""), work / "database.sqlite")
            kind = "sqlite"
        elif url.get_backend_name() == "postgresql":
            _pg_dump(database_url, work / "database.pgdump")
            kind = "postgresql"
        else:
            raise InvalidInput(f"不支持的数据库类型 {url.get_backend_name()}", code="backup.unsupported")
        manifest = {
            "format": FORMAT,
            "database": kind,
            "revision": revision,
            "created_at": now.isoformat(),
            "key_id": key_id,
        }
        (work / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(work / "manifest.json", arcname="manifest.json")
            for name in ("database.sqlite", "database.pgdump"):
                if (work / name).exists():
                    tar.add(work / name, arcname=name)
            if attachments_dir.exists():
                tar.add(attachments_dir, arcname="attachments")
        os.replace(partial, out)  # a crash mid-backup never leaves a truncated file under the final name
    return BackupInfo(out, manifest)


def _sqlite_backup(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_dump(url: str, target: Path) -> None:
    args, env = _pg_env(url)
    if shutil.which("pg_dump") is None:
        raise InvalidInput("找不到 pg_dump(请安装 postgresql-client)", code="backup.pg_dump_missing")
    subprocess.run(["pg_dump", "-Fc", "-f", str(target), *args], check=True, env=env, capture_output=True)


def read_manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile("manifest.json")
        if member is None:
            raise InvalidInput("备份文件缺少 manifest.json", code="backup.bad_archive")
        manifest: dict[str, Any] = json.loads(member.read().decode("utf-8"))
    if manifest.get("format") != FORMAT:
        raise InvalidInput("不是 xinfang 备份文件或版本不支持", code="backup.bad_archive")
    return manifest


def restore(*, archive: Path, database_url: str, attachments_dir: Path) -> dict[str, Any]:
    """Replace the database and attachments with the backup's. Run with the application stopped."""
    manifest = read_manifest(archive)
    url = make_url(database_url)
    with tempfile.TemporaryDirectory(prefix="xf-restore-") as tmp:
        work = Path(tmp)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(work, filter="data")
        if manifest["database"] == "sqlite":
            if url.get_backend_name() != "sqlite":
                raise InvalidInput("SQLite 备份只能恢复到 SQLite", code="backup.kind_mismatch")
            target = Path(url.database or "")
            for suffix in ("-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            shutil.copyfile(work / "database.sqlite", target)
        else:
            if url.get_backend_name() != "postgresql":
                raise InvalidInput("PostgreSQL 备份只能恢复到 PostgreSQL", code="backup.kind_mismatch")
            args, env = _pg_env(database_url)
            subprocess.run(
                ["pg_restore", "--clean", "--if-exists", "--no-owner", *args, str(work / "database.pgdump")],
                check=True,
                env=env,
                capture_output=True,
            )
        if (work / "attachments").exists():
            attachments_dir.mkdir(parents=True, exist_ok=True)
            shutil.copytree(work / "attachments", attachments_dir, dirs_exist_ok=True)
    return manifest
