"""One log format for every line a process writes: `HEXMART_LOG_FORMAT=text|json`.

The standard library's logging, with one handler on the root logger and every library
(uvicorn's access and error loggers, arq, alembic, the Stripe SDK, SQLAlchemy) sending its
records up to it. No structlog: each of those libraries logs through the standard library
anyway, so a formatter on the one handler reaches them all, and the credential filter
(`log_redaction`) is a standard `logging.Filter` that sits on that handler whatever the
format.

- `text` (the default): `2026-01-01 12:00:00,000 INFO hexmart.access: ... request_id=...`,
  readable for a person at a terminal.
- `json`: one JSON object a line, with `time`, `level`, `logger`, `message`, the request
  id when there is one, the structured fields of access lines, and `exception`.

The request id of the HTTP request being answered, or of the checkout whose outbox
message a worker job handles, lives in a context variable (`log_context`): every line
written in that context carries it, so `grep <request id>` finds one checkout's story
across the app and the worker.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from application.message_context import work_context
from entrypoints.log_redaction import RedactCredentials, redact

LogFormat = Literal["text", "json"]

# The request id the current work belongs to (an HTTP request, or a job continuing one).
request_id_var: ContextVar[str | None] = ContextVar("hexmart_request_id", default=None)

# Fields an access line carries (set with `extra=`), in the order they are printed.
ACCESS_FIELDS = (
    "method",
    "route",
    "path",
    "status",
    "duration_ms",
    "bytes",
    "client_ip",
    "user_id",
    "api_key_id",
)
_EXTRA_FIELDS = (*ACCESS_FIELDS, "job", "job_id", "job_try")

# Libraries whose own handlers are removed so that their records reach the root handler.
_LIBRARY_LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "uvicorn.asgi",
    "arq",
    "arq.worker",
    "arq.jobs",
    "arq.connections",
    "alembic",
    "alembic.runtime.migration",
    "stripe",
    "sqlalchemy",
    "sqlalchemy.engine",
    "litestar",
)


@contextlib.contextmanager
def log_context(request_id: str | None) -> Iterator[None]:
    """Lines written inside carry `request_id`."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


@contextlib.contextmanager
def continuing(context: Mapping[str, Any] | None) -> Iterator[None]:
    """Work that continues what an outbox message's `context` says (a job handling it):
    its lines carry that request id, and the messages it writes carry the context on."""
    request_id = context.get("request_id") if context else None
    carried = {k: str(v) for k, v in context.items()} if context else None
    token = work_context.set(carried)
    try:
        with log_context(str(request_id) if request_id else None):
            yield
    finally:
        work_context.reset(token)


class AddContext(logging.Filter):
    """Puts the current request id on each record (unless it carries one already)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...`: the structured fields follow the
    message, the request id last."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{name}={value}" for name, value in _extras(record).items()]
        if not extras:
            return line
        first, newline, rest = line.partition("\n")
        return f"{first} {' '.join(extras)}{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line. The message and exception were redacted by the handler's
    filter; they are redacted once more here, so that no formatter path skips it."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        entry.update(_extras(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """The record's structured fields that are set, text redacted like the message."""
    found: dict[str, Any] = {}
    for name in (*_EXTRA_FIELDS, "request_id"):
        value = getattr(record, name, None)
        if value is not None:
            found[name] = redact(value) if isinstance(value, str) else value
    return found


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(level: str, log_format: LogFormat) -> None:
    """One stderr handler on the root logger, formatted as `log_format`, with the request
    id and the credential filter; every library's records go to it. Idempotent: a second
    call replaces the handler."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "hexmart", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.hexmart = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(log_format))
    handler.addFilter(AddContext())
    handler.addFilter(RedactCredentials())
    root.addHandler(handler)
    root.setLevel(level)
    for name in _LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
        library.setLevel(logging.NOTSET)
    # The Stripe SDK (and httpx, which it calls through) log every API call at INFO,
    # SQLAlchemy its pools and statements: only when debugging.
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for chatty in ("stripe", "sqlalchemy", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(quiet)
