"""Structured logs: one JSON object per line, a request id on every record, secrets masked.

The redaction is defence in depth. The code logs ids and counts, never a phone number or a
key, but a library's message (a database error quoting its parameters, a client sending a
phone number as a request id) must not put one in the logs either.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["json", "text"]

REQUEST_ID: ContextVar[str | None] = ContextVar("creneau_request_id", default=None)
"""The id of the HTTP request being served by this task, if any."""

MASK = "[redacted]"
# E.164 (+33612345678, +33 6 12 34 56 78) and French national forms (0612345678,
# 06 12 34 56 78, 06.12.34.56.78, 0692 12 34 56): ten digits from 0[1-9], any separators.
_E164 = r"(?<![\w+])\+\d(?:[ .\-]?\d){6,14}(?!\d)"
_NATIONAL = r"(?<![\w.+])0[1-9](?:[ .\-]?\d){8}(?!\d)"
# Our API keys, and any long URL-safe secret (feed tokens, Twilio tokens):
# 24+ characters mixing upper and lower case. Our ids and digests are lowercase hex, so they
# stay readable.
_KEY = r"crn_[A-Za-z0-9_\-]{8,}"
_SECRET = r"(?<![A-Za-z0-9_\-])(?=[A-Za-z0-9_\-]*[A-Z])(?=[A-Za-z0-9_\-]*[a-z])[A-Za-z0-9_\-]{24,}"
# Family page links (``<public_url>/r/<token>``): the token goes, whatever its length.
_FAMILY_LINK = r"(?<=/r/)[^\s/?#\"']+"
# A family page token on its own (base62, 12 characters today; any length from 8): upper and
# lower case and a digit. Most tokens have all three; words written in CamelCase (exception
# names) have no digit.
_BASE62_TOKEN = r"(?<![A-Za-z0-9_\-])(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{8,}(?![A-Za-z0-9_\-])"  # noqa: E501 (one literal, clearer whole)
_SENSITIVE = re.compile("|".join(
    f"(?:{pattern})" for pattern in (_KEY, _FAMILY_LINK, _E164, _NATIONAL, _SECRET, _BASE62_TOKEN)))

# Attributes every LogRecord has: anything else on a record came through ``extra=``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def redact(text: str) -> str:
    """``text`` with anything that looks like a phone number, an API key or a token masked."""
    return _SENSITIVE.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Masks phone numbers, keys and tokens in a record's message, arguments and extra fields.

    The message is rendered with its arguments here (``%`` formatting, as the formatter
    would), so a number passed as an argument is caught as well as one written into it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: keep the template, drop the values
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, or None) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({name: value for name, value in record.__dict__.items() if name not in _STANDARD})
        if record.exc_info:
            # A traceback can quote SQL parameters: it goes through the same mask.
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic one-line format, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))


# Libraries that log SQL with its parameters (aiosqlite at DEBUG, SQLAlchemy's engine at INFO),
# request URLs, headers and bodies (httpx at INFO, httpcore and hpack at DEBUG, twilio's client
# at INFO: the texted number and the text), or connection details: family references, notes,
# idempotency keys and phone numbers in forms the mask cannot know. They are held at WARNING
# whatever CRENEAU_LOG_LEVEL says; their warnings and errors still go through the mask.
QUIET_LIBRARIES = ("aiosqlite", "sqlalchemy", "asyncpg", "httpx", "httpcore", "hpack", "h11", "twilio",
                   "urllib3", "redis", "multipart", "python_multipart", "apscheduler")


def logging_config(level: str, fmt: LogFormat) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the CLI and every server worker.

    Uvicorn applies it again in each worker process it spawns, so workers log the same way.
    Uvicorn's own loggers propagate to the root handler (one format for everything), and
    APScheduler's per-run INFO lines ("Running job ...", one per tick) are silenced, and so is
    anything below WARNING from the libraries in ``QUIET_LIBRARIES``.
    """
    formatter = "json" if fmt == "json" else "text"
    library_level = "ERROR" if level == "ERROR" else "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "redact": {"()": RedactingFilter},
        },
        "formatters": {
            "json": {"()": JsonFormatter},
            "text": {"()": TextFormatter},
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": formatter,
                "filters": ["request_id", "redact"],
            },
        },
        "root": {"level": level, "handlers": ["default"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            **{name: {"level": library_level, "handlers": [], "propagate": True} for name in QUIET_LIBRARIES},
        },
    }
