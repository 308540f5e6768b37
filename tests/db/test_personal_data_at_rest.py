"""No ID number or phone in plain text anywhere in the database, while search by them still works."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import PASSWORDS
from tests.factories import fake_id_number, petition_payload
from xinfang.cases.service import find_by_person
from xinfang.runtime import Runtime
from xinfang.security.actors import SYSTEM
from xinfang.store.schema import metadata
from xinfang.web.app import create_app

PHONE = "13812345678"


def _register_through_the_api(rt: Runtime, id_number: str) -> None:
    with TestClient(create_app(rt.settings, runtime=rt)) as client:
        token = client.post(
            "/api/auth/token", data={"username": "clerk", "password": PASSWORDS["clerk"]}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        r = client.post(
            "/api/petitions", json=petition_payload(id_number=id_number, phone=PHONE), headers=headers
        )
        assert r.status_code == 201


def _all_database_text(rt: Runtime) -> str:
    """Every row of every table rendered as text, the way a dump would show it."""
    chunks = []
    with rt.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def test_an_id_number_written_through_the_api_is_not_in_the_database_file(seeded: Runtime) -> None:
    id_number = fake_id_number(seed=99)
    _register_through_the_api(seeded, id_number)
    dump = _all_database_text(seeded)
    assert "张测试" in dump  # the dump does see the petition
    assert id_number not in dump and PHONE not in dump
    if seeded.engine.dialect.name == "sqlite":
        db_path = Path(seeded.engine.url.database or "")
        seeded.engine.dispose()
        raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
        assert (
            b"\xe5\xbc\xa0\xe6\xb5\x8b\xe8\xaf\x95" in raw
        )  # 张测试 is in the file: we are reading the right one
        assert id_number.encode() not in raw and PHONE.encode() not in raw
    else:
        with seeded.engine.connect() as conn:
            columns = conn.execute(text("SELECT id_number_enc FROM petitioners")).scalar_one()
        assert columns.startswith("sm4gcm1:")


def test_a_person_is_found_again_through_the_blind_index(seeded: Runtime) -> None:
    id_number = fake_id_number(seed=5)
    _register_through_the_api(seeded, id_number)
    _register_through_the_api(seeded, fake_id_number(seed=6))
    with seeded.session() as s:
        same = find_by_person(s, actor=SYSTEM, keyring=seeded.keyring, id_number=id_number)
        by_phone = find_by_person(s, actor=SYSTEM, keyring=seeded.keyring, phone=PHONE)
    assert len(same) == 1 and len(by_phone) == 2
