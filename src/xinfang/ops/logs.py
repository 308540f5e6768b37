"""Process logging: one JSON object per line, ID numbers and phone numbers masked, to stderr and optionally a file.

Why this shape: the logs must be kept at least six months (等保 level 3) and must never hold personal data. Code
already avoids logging it (the access log carries route templates, not paths), but an exception message or a
third-party library can still echo a value; so every line goes through the same masking as petition text
(`security.redaction`) on its way out, whatever logger produced it.

Retention: with `Settings.log_dir` set, the lines are also appended to `<log_dir>/xinfang.log` through a
`WatchedFileHandler`, and `deploy/logrotate/xinfang` rotates that file daily and keeps 190 days. Rotation is left to
logrotate rather than `TimedRotatingFileHandler` on purpose: the web service runs several uvicorn worker processes
and the job worker beside them, all appending to the same file, and `TimedRotatingFileHandler` rotates in each
process independently — at midnight one process renames the file under the others and the next one to roll over
deletes the first one's rotated file (Python's logging cookbook: logging to one file from several processes "is not
supported"). Appends (O_APPEND) of whole lines are safe across processes, and `WatchedFileHandler` reopens the file
once logrotate has moved it away. Either way the lines also go to stderr, which systemd keeps in the journal (stdout
stays free for the commands' own output, e.g. `xinfang worker --once` prints JSON there).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from xinfang.config import Settings
from xinfang.security.redaction import redact

LOG_FILE = "xinfang.log"
_MARK = "_xinfang_handler"  # handlers this module installed, replaced when it is called again


def _scrub(value: Any) -> Any:
    """Mask ID numbers and phones inside a parsed JSON message, field by field (the JSON stays valid)."""
    if isinstance(value, str):
        return redact(value).text
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        text = str(value)
        masked = redact(text).text
        return value if masked == text else masked
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return redact(str(value)).text


class RedactingJsonFormatter(logging.Formatter):
    """A record as one JSON line: time (UTC), level, logger, then the message's fields if the message is itself a
    JSON object (as the access log's are) or else `message`; tracebacks under `exc`. Personal numbers are masked."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        message = record.getMessage()
        parsed: Any = None
        if message.startswith("{"):
            try:
                parsed = json.loads(message)
            except ValueError:
                parsed = None
        if isinstance(parsed, dict):
            for key, value in _scrub(parsed).items():
                entry.setdefault(key, value)
        else:
            entry["message"] = redact(message).text
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info)).text
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info)).text
        return json.dumps(entry, ensure_ascii=False, default=str)


def file_handler(log_dir: Path) -> logging.Handler:
    """Append to <log_dir>/xinfang.log; reopen it when logrotate has moved it (multi-process safe)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    return logging.handlers.WatchedFileHandler(log_dir / LOG_FILE, encoding="utf-8")


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> list[logging.Handler]:
    """Install the JSON handlers on the root logger (stderr, and the file when `log_dir` is set).

    Called once per process by the entry points (web/asgi.py, the job worker), never at import; calling it again
    replaces the handlers it installed before, so tests and re-imports do not duplicate lines.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    formatter = RedactingJsonFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if settings.log_dir is not None:
        handlers.append(file_handler(settings.log_dir))
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    return handlers
