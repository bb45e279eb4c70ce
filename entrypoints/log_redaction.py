"""Credentials never reach a log line, whoever writes it.

uvicorn logs every request path with its query string (`/ws/orders/1?token=<JWT>`), a
failing job logs its payload, a library may log a URL with a password in it. A
`RedactCredentials` filter on every handler rewrites each record before it is formatted:
the values of credential query parameters (`token`, `access_token`, `refresh_token`,
`api_key`, `password`, `sig`, ...), `Authorization` and `X-API-Key` header values,
password and token fields (`"password": "..."`, `new_password=...`), passwords in URLs
(`smtp://user:<password>@host`), bearer tokens, JWTs, refresh tokens and API keys become
`[redacted]`.

`redact_credentials_in_logs()` puts the filter on every handler configured at the time
(the root logger's, uvicorn's, arq's); the app calls it at start-up, after the server
configured its logging, and so does the worker.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"
_ALREADY = re.escape(REDACTED)
_SCHEMES = "(?:bearer|basic|digest|token)"

# new_password, refresh_token, HEXMART_ADMIN_PASSWORD, ... The name starts where a run of
# name characters starts and its prefix is bounded, so that a long run (a base64 blob)
# costs one scan, not one per position.
_CREDENTIAL_NAME = r"(?<![\w-])[\w-]{0,40}?(?:password|passwd|secret|token|api[_-]?key)"
_QUERY_NAMES = (
    r"(?:access_token|refresh_token|id_token|token|api_key|apikey|key|password|secret"
    r"|sig|signature|x-amz-signature|x-amz-security-token|x-amz-credential)"
)

# (pattern, replacement), applied in order.
_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # URL query and fragment parameters: ?token=..., &sig=..., #token=...
    (
        re.compile(rf"(?i)([?&#;]{_QUERY_NAMES}=)[^&#;\s\"'<>]+"),
        rf"\1{REDACTED}",
    ),
    # Passwords in URLs: scheme://user:password@host
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,30}://[^\s:/@]*:)[^\s@/]+@"),
        rf"\1{REDACTED}@",
    ),
    # Authorization (and Proxy-Authorization) header values, with or without a scheme.
    (
        re.compile(
            r"(?i)(authorization[\"']?\s*[:=,]\s*[\"']?)"
            rf"(?!(?:{_SCHEMES}\s+)?{_ALREADY})(?:({_SCHEMES})\s+)?[^\s\"',;)}}\]]+"
        ),
        lambda m: f"{m.group(1)}{m.group(2) + ' ' if m.group(2) else ''}{REDACTED}",
    ),
    # X-API-Key header values.
    (
        re.compile(rf"(?i)(x-api-key[\"']?\s*[:=,]\s*[\"']?)(?!{_ALREADY})[^\s\"',;)}}\]]+"),
        rf"\1{REDACTED}",
    ),
    # Password and token fields: "password": "...", 'new_password': '...', token=...
    (
        re.compile(
            rf"(?i)([\"']?{_CREDENTIAL_NAME}[\"']?\s*[:=]\s*)(?!{_ALREADY})"
            r"(\"(?:[^\"\\]|\\.){0,2000}\"|'(?:[^'\\]|\\.){0,2000}'|[^\s,;&)}\]]+)"
        ),
        lambda m: f"{m.group(1)}{_quoted_like(m.group(2))}",
    ),
    # Anything that looks like a credential wherever it appears.
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{16,}"), rf"\1 {REDACTED}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+"), REDACTED),
    (re.compile(r"\bhxm_[A-Za-z0-9_-]{16,}"), f"hxm_{REDACTED}"),
    # Refresh tokens: <family uuid>.<secret>
    (
        re.compile(r"(?i)\b([0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12})\.[A-Za-z0-9_-]{20,}"),
        rf"\1.{REDACTED}",
    ),
]


def _quoted_like(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return f"{value[0]}{REDACTED}{value[0]}"
    return REDACTED


def redact(text: str) -> str:
    """`text` with every credential it holds replaced by `[redacted]`."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class _Redacted:
    """Stands for an argument whose str() or repr() held a credential."""

    __slots__ = ("_repr", "_str")

    def __init__(self, value: object) -> None:
        self._str = redact(str(value))
        self._repr = redact(repr(value))

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        return self._repr


def _redact_argument(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, int | float):
        return value
    redacted = _Redacted(value)
    if str(redacted) == str(value) and repr(redacted) == repr(value):
        return value
    return redacted


class RedactCredentials(logging.Filter):
    """Rewrites a record's message, arguments, traceback and stack so that no credential
    is formatted. Arguments keep their place (uvicorn's access formatter reads them by
    position), only their text changes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_argument(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_argument(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _handlers() -> list[logging.Handler]:
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in list(logging.Logger.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)
    ]
    return [handler for logger in loggers for handler in logger.handlers]


def redact_credentials_in_logs() -> None:
    """Put `RedactCredentials` on every handler configured now (once per handler)."""
    for handler in _handlers():
        if not any(isinstance(f, RedactCredentials) for f in handler.filters):
            handler.addFilter(RedactCredentials())
