"""Backup and restore (consistent, whole, personal data still encrypted) and key rotation, on each backend."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.factories import fake_id_number, petition_payload
from xinfang.cases.models import Petition, Petitioner
from xinfang.cases.schemas import PetitionIn
from xinfang.cases.service import find_by_person, register_petition
from xinfang.cli import build_app
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM

runner = CliRunner()


def _register(rt: Runtime, n: int, seed: int = 0) -> list[str]:
    ids = []
    with rt.session() as s:
        ctx = rt.intake_context(s)
        for i in range(n):
            idn = fake_id_number(seed=seed + i)
            ids.append(idn)
            data = PetitionIn.model_validate(petition_payload(title=f"备份测试{seed + i}", id_number=idn))
            register_petition(s, actor=SYSTEM, data=data, now=rt.clock.now(), ctx=ctx)
    return ids


def _count(rt: Runtime) -> int:
    with rt.session() as s:
        return s.execute(select(func.count()).select_from(Petition)).scalar_one()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, seeded: Runtime) -> Runtime:
    monkeypatch.setenv("XINFANG_DATA_KEY", seeded.settings.data_key)
    monkeypatch.setenv("XINFANG_ATTACHMENTS_DIR", str(seeded.settings.attachments_dir))
    monkeypatch.setenv("XINFANG_DISPATCH_ENABLED", "false")
    return seeded


def test_a_backup_restores_exactly_what_was_there(env: Runtime, tmp_path: Path) -> None:
    ids = _register(env, 3)
    url = env.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "backup.tar.gz"
    result = runner.invoke(build_app(), ["backup", "--out", str(out), "--db", url])
    assert result.exit_code == 0, result.output
    with tarfile.open(out) as tar:
        names = tar.getnames()
        blob = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())  # type: ignore[union-attr]
    assert "manifest.json" in names
    assert not any(i.encode() in blob for i in ids)  # personal data stays encrypted in the backup
    _register(env, 2, seed=100)  # changes after the backup ...
    assert _count(env) == 5
    env.dispose()
    assert runner.invoke(build_app(), ["restore", str(out), "--db", url]).exit_code == 2  # needs --yes
    result = runner.invoke(build_app(), ["restore", str(out), "--yes", "--db", url])
    assert result.exit_code == 0, result.output
    assert _count(env) == 3  # ... are gone, the backed-up ones are back
    with env.session() as s:
        found = find_by_person(s, actor=SYSTEM, keyring=env.keyring, id_number=ids[1])
    assert len(found) == 1


def test_key_rotation_reencrypts_and_keeps_search_working(
    env: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _register(env, 2)
    old_key = env.settings.data_key
    monkeypatch.setenv("XINFANG_DATA_KEY", "a-brand-new-key-for-rotation-0001")
    monkeypatch.setenv("XINFANG_DATA_KEY_ID", "k2")
    monkeypatch.setenv("XINFANG_OLD_DATA_KEYS", f'{{"k1": "{old_key}"}}')
    url = env.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(build_app(), ["keys", "rotate", "--db", url])
    assert result.exit_code == 0, result.output
    from xinfang.config import Settings

    rotated = Runtime(settings=Settings(database_url=env.settings.database_url))
    with rotated.session() as s:
        tokens = list(s.execute(select(Petitioner.id_number_enc)).scalars())
        assert all(t and t.split(":")[1] == "k2" for t in tokens)
        assert len(find_by_person(s, actor=SYSTEM, keyring=rotated.keyring, id_number=ids[0])) == 1
    only_new = Runtime(
        settings=Settings(
            database_url=env.settings.database_url,
            data_key_id="k2",
            data_key="a-brand-new-key-for-rotation-0001",
            old_data_keys={},
        )
    )
    with only_new.session() as s:
        person = s.execute(select(Petitioner)).scalars().first()
        assert person is not None and only_new.keyring.decrypt(person.id_number_enc or "") in ids
    rotated.dispose()
    only_new.dispose()
