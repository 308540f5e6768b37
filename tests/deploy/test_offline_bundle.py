"""The offline bundle installs and runs with no package index and no network.

Builds the bundle (this step downloads wheels: a connected build machine), then, where the kernel allows (root in
CI), inside a new network namespace that has only a loopback interface: installs it into a fresh environment with
pip's index and configuration switched off, migrates a database, loads a small demo, serves it and passes a smoke
test over HTTP on loopback. Without namespaces the same runs with pip's --no-index only (said in the skip reason).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SMOKE = r"""
set -euo pipefail
ip link set lo up 2>/dev/null || true
"$BUNDLE/install.sh" "$PREFIX" >/dev/null
XF="$PREFIX/venv/bin/xinfang"
"$XF" db upgrade --db "$DB" >/dev/null
"$XF" demo load --scale 0.03 --db "$DB" >/dev/null
"$XF" serve --db "$DB" --port 18765 &
SERVER=$!
trap 'kill $SERVER' EXIT
"$PREFIX/venv/bin/python" - <<'PY'
import json, time, urllib.parse, urllib.request
base = "http://127.0.0.1:18765"
for _ in range(150):
    try:
        if urllib.request.urlopen(base + "/api/health", timeout=1).status == 200:
            break
    except OSError:
        time.sleep(0.2)
form = urllib.parse.urlencode({"username": "clerk", "password": "demo-clerk"}).encode()
token = json.load(urllib.request.urlopen(base + "/api/auth/token", data=form))["access_token"]
req = urllib.request.Request(base + "/api/petitions", headers={"Authorization": "Bearer " + token})
page = json.load(urllib.request.urlopen(req))
assert page["total"] > 0, page
print("SMOKE-OK", page["total"])
PY
"""


def _can_isolate() -> bool:
    return (
        bool(shutil.which("unshare"))
        and subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0
    )


@pytest.mark.slow
def test_the_bundle_installs_and_serves_offline(tmp_path: Path) -> None:
    built = subprocess.run(
        [str(ROOT / "scripts" / "build_bundle.sh"), str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    archive = Path(built.stdout.strip().splitlines()[-1])
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    bundle = next((tmp_path / "unpacked").iterdir())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "XINFANG_"))}
    env |= {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "BUNDLE": str(bundle),
        "PREFIX": str(tmp_path / "opt"),
        "DB": f"sqlite:///{tmp_path / 'offline.db'}",
        "XINFANG_DATA_KEY": "offline-test-key-0001",
        "XINFANG_ATTACHMENTS_DIR": str(tmp_path / "att"),
    }
    isolate = ["unshare", "--net"] if _can_isolate() else []
    done = subprocess.run(
        [*isolate, "bash", "-c", SMOKE], env=env, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, (done.stdout[-1500:], done.stderr[-3000:])
    assert "SMOKE-OK" in done.stdout
    if not isolate:
        pytest.skip("installed and served with pip --no-index, but network namespaces are unavailable here")
