"""A live server for the browser tests: the demo county (small scale) in a temp SQLite DB, `xinfang serve` on a free
port, and Debian's chromium driven by Playwright (never downloaded: `scripts/ensure_chromium.sh` installs it).

Everything is session-scoped: loading the demo takes ~15 s and the browser ~1 s. Tests skip with a clear message
where chromium or the playwright package is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("XINFANG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
XINFANG = Path(sys.executable).with_name("xinfang")
DEMO_SCALE = "0.2"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure_chromium.sh as root (make test does)")
    pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev dependency)")
    work = tmp_path_factory.mktemp("live")
    db = f"sqlite:///{work / 'demo.db'}"
    env = {
        **os.environ,
        "XINFANG_DEMO_LABEL": "true",
        "XINFANG_ATTACHMENTS_DIR": str(work / "attachments"),
        "XINFANG_DATABASE_URL": db,
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("XINFANG_ENVIRONMENT", None)
    xinfang = str(XINFANG) if XINFANG.exists() else shutil.which("xinfang") or "xinfang"
    subprocess.run(
        [xinfang, "demo", "load", "--db", db, "--scale", DEMO_SCALE],
        check=True,
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
    )
    port = _free_port()
    log = (work / "serve.log").open("wb")
    proc = subprocess.Popen(
        [xinfang, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError((work / "serve.log").read_text(errors="replace")[-2000:])
            time.sleep(0.25)
        else:
            raise RuntimeError("xinfang serve did not answer /api/health")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser(live_server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Session:
    """One role's browser context: logs in, records page errors, saves screenshots at 1440×900."""

    def __init__(self, browser: object, base: str, username: str) -> None:
        self.base = base
        self.context = browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": 1440, "height": 900}, accept_downloads=True, locale="zh-CN"
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{base}/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", f"demo-{username}")
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, f"login failed for {username}"

    def goto(self, path: str) -> object:
        return self.page.goto(self.base + path)

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        assert self.errors == [], f"JavaScript errors: {self.errors}"
        self.context.close()


@pytest.fixture
def as_user(browser: object, live_server: str) -> Iterator[object]:
    opened: list[Session] = []

    def open_as(username: str) -> Session:
        s = Session(browser, live_server, username)
        opened.append(s)
        return s

    yield open_as
    for s in opened:
        s.close()


@pytest.fixture(scope="session")
def shared() -> dict[str, object]:
    """State handed from one test to the next (the petition the clerk registered)."""
    return {}
