"""Logging: plain text for a developer, JSON lines in production. Log calls in this project
never pass names, e-mails or answers; ids of dialogues are the most a line carries."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines, with the ids a call passes in ``extra`` at the end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        line = super().format(record)
        return line + "".join(f" {k}={v}" for k, v in extras.items())


#: Libraries that log request bodies or SQL parameters (names, answers) at DEBUG: never below
#: WARNING, whatever LOG_LEVEL says.
QUIET = (
    "botbuilder",
    "botframework",
    "msrest",
    "aiosqlite",
    "sqlalchemy",
    "asyncpg",
    "urllib3",
    "requests",
    "msal",
    "azure",
    "microsoft_agents",
)


#: Loggers that write what they were given with their errors: the Agents SDK's Activity model
#: logs a refused activity with its input values (a user's text among them) at ERROR.
SILENT = ("microsoft_agents.activity",)


def configure(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in SILENT:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
