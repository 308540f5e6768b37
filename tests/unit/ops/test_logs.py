"""Logs: JSON lines with ID numbers and phones masked, written to stderr and the log file; the file survives
rotation by the shipped logrotate configuration, which keeps at least six months."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from xinfang.config import Settings
from xinfang.ops.logs import LOG_FILE, configure_logging
from xinfang.text.ids import id_checksum_char

ROOT = Path(__file__).resolve().parents[3]
LOGROTATE_CONF = ROOT / "deploy" / "logrotate" / "xinfang"
ID_NUMBER = "35042819900101123" + id_checksum_char("35042819900101123")
PHONE = "13905981234"


@pytest.fixture
def clean_root() -> Iterator[logging.Logger]:
    """Give the test the root logger and put its handlers and level back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_line_is_json_with_personal_numbers_masked_on_stderr_and_in_the_file(
    tmp_path: Path, clean_root: logging.Logger
) -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_dir=tmp_path / "logs", log_level="INFO"), stream=stream)
    log = logging.getLogger("xinfang.test")
    log.info("来电人 %s 身份证 %s 反映欠薪", PHONE, ID_NUMBER)
    log.info(
        json.dumps({"request_id": "ab12", "route": "/api/petitions/{petition_id}", "status": 200, "q": PHONE})
    )
    try:
        raise ValueError(f"duplicate key id_number={ID_NUMBER}")
    except ValueError:
        log.exception("insert failed")
    logging.getLogger("xinfang.test").debug("below the level: not written")

    file_text = (tmp_path / "logs" / LOG_FILE).read_text(encoding="utf-8")
    assert file_text == stream.getvalue()
    assert ID_NUMBER not in file_text and PHONE not in file_text
    first, access, error = _lines(tmp_path / "logs" / LOG_FILE)
    assert first["level"] == "INFO" and first["logger"] == "xinfang.test"
    assert first["message"] == f"来电人 139****1234 身份证 350428********{ID_NUMBER[-4:]} 反映欠薪"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", str(first["at"]))
    # An access-log message (itself JSON) is merged field by field, still masked, still valid JSON.
    assert access["route"] == "/api/petitions/{petition_id}" and access["status"] == 200
    assert access["q"] == "139****1234" and "message" not in access
    assert error["level"] == "ERROR" and "ValueError" in str(error["exc"])
    assert f"350428********{ID_NUMBER[-4:]}" in str(error["exc"])


def test_configuring_again_replaces_its_handlers_instead_of_doubling_lines(
    tmp_path: Path, clean_root: logging.Logger
) -> None:
    before = len(clean_root.handlers)
    configure_logging(Settings(log_dir=tmp_path), stream=io.StringIO())
    configure_logging(Settings(log_dir=tmp_path), stream=io.StringIO())
    assert len(clean_root.handlers) == before + 2
    logging.getLogger("xinfang.test").warning("once")
    assert len(_lines(tmp_path / LOG_FILE)) == 1
    configure_logging(Settings(), stream=io.StringIO())  # no log_dir: stderr only
    assert len(clean_root.handlers) == before + 1


def _rotation_config() -> dict[str, str]:
    text = LOGROTATE_CONF.read_text(encoding="utf-8")
    body = re.search(r"^(\S+)\s*\{(.*?)^\}", text, re.S | re.M)
    assert body, "no stanza in deploy/logrotate/xinfang"
    options = {}
    for line in body.group(2).splitlines():
        words = line.split()
        if words and not words[0].startswith("#"):
            options[words[0]] = " ".join(words[1:])
    return {"path": body.group(1), **options}


def test_the_shipped_logrotate_configuration_keeps_at_least_six_months_daily() -> None:
    conf = _rotation_config()
    assert "daily" in conf
    assert int(conf["rotate"]) >= 183 and int(conf["maxage"]) >= 183  # 等保: at least 6 months
    assert "copytruncate" not in conf  # the processes reopen the moved file themselves: no lost lines
    env = (ROOT / "deploy" / "xinfang.env.example").read_text(encoding="utf-8")
    log_dir = re.search(r"^XINFANG_LOG_DIR=(\S+)$", env, re.M)
    assert log_dir and conf["path"] == f"{log_dir.group(1)}/*.log"
    assert Settings(log_dir=Path(log_dir.group(1))).log_dir == Path("/var/log/xinfang")


def test_logrotate_rotates_the_file_and_the_writers_carry_on_in_a_new_one(
    tmp_path: Path, clean_root: logging.Logger
) -> None:
    logrotate = shutil.which("logrotate") or "/usr/sbin/logrotate"
    if not Path(logrotate).exists():
        pytest.skip("logrotate is not installed here (Debian: apt-get install logrotate)")
    log_dir = tmp_path / "logs"
    conf = LOGROTATE_CONF.read_text(encoding="utf-8").replace("/var/log/xinfang", str(log_dir))
    # Owner and user switching need the xinfang account; everything else is tested as shipped.
    conf = re.sub(r"^\s*(su|create)\b.*$", "", conf, flags=re.M)
    (tmp_path / "xinfang.conf").write_text(conf, encoding="utf-8")
    configure_logging(Settings(log_dir=log_dir), stream=io.StringIO())
    log = logging.getLogger("xinfang.test")
    log.warning("before rotation %s", PHONE)
    subprocess.run(
        [logrotate, "--force", "--state", str(tmp_path / "state"), str(tmp_path / "xinfang.conf")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    rotated = sorted(p.name for p in log_dir.iterdir() if p.name != LOG_FILE)
    assert len(rotated) == 1 and re.fullmatch(r"xinfang\.log-\d{8}", rotated[0])  # dated; compressed next day
    log.warning("after rotation")
    assert [e["message"] for e in _lines(log_dir / rotated[0])] == ["before rotation 139****1234"]
    assert [e["message"] for e in _lines(log_dir / LOG_FILE)] == ["after rotation"]
