"""Property-based fuzzing of every API operation with schemathesis, over real HTTP on loopback.

The app runs under uvicorn in a thread, on a seeded world (tests/api/world.py) of each backend. Every operation of
app.openapi() is fuzzed as the administrator (the most privileged role: most code paths open) with valid data
(positive) and invalid data (negative), and anonymously. The checks are schemathesis' own:

- no 5xx (not_a_server_error);
- the status code is one the schema documents (status_code_conformance);
- the Content-Type is one it documents (content_type_conformance), the body matches the documented schema
  (response_schema_conformance), and so do documented headers (response_headers_conformance);
- invalid data is refused with a 4xx (negative_data_rejection, negative mode);
- anonymously, every private operation answers 401.

Bounded: a fixed number of examples per operation, derandomized (the same examples on every run), no shrinking,
no example database. Path ids are drawn from the seeded objects half of the time, so that the handlers run past
their 404s. Counts go to the terminal and build/fuzz-summary.json (tests/fuzz/conftest.py).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from tests.api.world import World, seed_world, world_runtime
from tests.conftest import PASSWORDS
from tests.fuzz.conftest import LANES
from xinfang.config import Settings
from xinfang.web.app import create_app

# Examples per operation: a CI-sized budget (about a minute per backend on 2 cores).
EXAMPLES = {
    ("admin", GenerationMode.POSITIVE): 10,
    ("admin", GenerationMode.NEGATIVE): 5,
    ("anonymous", None): 2,
}
PUBLIC = re.compile(r"^/api/(health|metrics|auth/token|referrals/callback/\{platform\})$")
TARGET_USER = "fuzz-target"
# Not fuzzed as the administrator, and why:
EXCLUDED_FOR_ADMIN = {
    # ends the very session the rest of the run is authenticated with (fuzzed anonymously: 401)
    "POST /api/auth/logout",
}
# Operations on a user named in the path act on a throwaway account only: the constants schemathesis mines from the
# schema include role names such as "admin", and deactivating the fuzzing administrator would end the run.
ALWAYS_PINNED = {"username"}
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
NEGATIVE_CHECKS = [*CHECKS, checks.negative_data_rejection]


def _operations() -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
    """Every operation of the app's OpenAPI, and those that take any input (what negative mode can spoil)."""
    paths = create_app(Settings()).openapi()["paths"]
    every = sorted((method.upper(), path) for path, ops in paths.items() for method in ops)
    with_input = {
        (method.upper(), path)
        for path, ops in paths.items()
        for method, op in ops.items()
        if op.get("parameters") or op.get("requestBody")
    }
    return every, with_input


OPERATIONS, WITH_INPUT = _operations()


@dataclass
class Live:
    backend: str
    base_url: str
    world: World
    admin: dict[str, str]
    schema: Any
    http: requests.Session

    def pinned(self) -> dict[str, Any]:
        w = self.world
        return {
            "petition_id": w.pid_rsj,
            "petitioner_id": w.petitioner_rsj,
            "attachment_id": w.attachment_rsj,
            "document_id": w.document_rsj,
            "entry_id": w.ledger_entry,
            "project_id": w.risk_project,
            "username": TARGET_USER,
            "kind": "acceptance",
            "platform": "mediation",
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Live]:
    workdir = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with world_runtime(request.param, workdir, sqlite_template) as rt:
        app = create_app(rt.settings, runtime=rt)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
            )
        )
        thread = threading.Thread(target=server.run, name="fuzz-uvicorn", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        base_url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base_url, timeout=60) as client:
                tokens: dict[str, dict[str, str]] = {}

                def auth(user: str) -> dict[str, str]:
                    if user not in tokens:
                        r = client.post(
                            "/api/auth/token", data={"username": user, "password": PASSWORDS[user]}
                        )
                        assert r.status_code == 200, r.text
                        tokens[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}
                    return tokens[user]

                world = seed_world(client, auth)
                target = {"username": TARGET_USER, "password": "Fuzz-Target-2026!", "role": "leader"}
                assert client.post("/api/admin/users", json=target, headers=auth("admin")).status_code == 201
                schema = schemathesis.openapi.from_dict(app.openapi())
                with requests.Session() as http:
                    yield Live(request.param, base_url, world, auth("admin"), schema, http)
        finally:
            server.should_exit = True
            thread.join(timeout=30)


def _strategy(live: Live, operation: Any, mode: GenerationMode) -> Any:
    names = {p.name for p in operation.path_parameters}
    pinned = {k: v for k, v in live.pinned().items() if k in names}
    if not pinned:
        return operation.as_strategy(generation_mode=mode)
    seeded = operation.as_strategy(generation_mode=mode, path_parameters=pinned)
    if names & ALWAYS_PINNED:
        return seeded
    return st.one_of(seeded, operation.as_strategy(generation_mode=mode))


def _fuzz(live: Live, method: str, path: str, role: str, mode: GenerationMode | None) -> None:
    operation = live.schema[path][method.lower()]
    lane = LANES[f"{live.backend}/{role}" + (f"/{mode.value}" if mode else "")]
    lane.operations.add(f"{method} {path}")
    headers = live.admin if role == "admin" else {}
    private = not PUBLIC.match(path)

    @settings(
        max_examples=EXAMPLES[(role, mode)],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(live, operation, mode or GenerationMode.POSITIVE))
    def run(case: Any) -> None:
        lane.examples += 1
        response = case.call(base_url=live.base_url, session=live.http, headers=headers, timeout=60)
        lane.by_status[response.status_code] += 1
        if role == "anonymous" and private:
            assert response.status_code == 401, f"{method} {path} answered {response.status_code} anonymously"
        case.validate_response(
            response, checks=NEGATIVE_CHECKS if mode == GenerationMode.NEGATIVE else CHECKS, headers=headers
        )

    try:
        run()
    except Unsatisfiable:
        if mode != GenerationMode.NEGATIVE:
            raise
        # e.g. a free-text path segment, or a path pinned to a seeded object: no request is invalid by schema
        pytest.skip("schemathesis can make no input of this operation invalid")
    except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
        lane.failures.append(
            f"{method} {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        )
        raise


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzz_as_admin(live: Live, method: str, path: str, mode: GenerationMode) -> None:
    if f"{method} {path}" in EXCLUDED_FOR_ADMIN:
        pytest.skip("excluded for the administrator: see EXCLUDED_FOR_ADMIN")
    if mode == GenerationMode.NEGATIVE and (method, path) not in WITH_INPUT:
        pytest.skip("takes no input: nothing to make invalid")
    _fuzz(live, method, path, "admin", mode)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzz_anonymously(live: Live, method: str, path: str) -> None:
    _fuzz(live, method, path, "anonymous", None)


def test_every_operation_is_fuzzed() -> None:
    """The parametrisation comes from the app's own OpenAPI, so a new operation is fuzzed without a list to edit;
    this guards against the schema losing operations (a router left out) and against the exclusions growing."""
    assert len(OPERATIONS) > 80
    assert len(EXCLUDED_FOR_ADMIN) <= 1
