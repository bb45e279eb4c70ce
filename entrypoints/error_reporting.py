"""Unhandled errors to Sentry, when `HEXMART_SENTRY_DSN` is set.

Reported: an HTTP request's unexpected error (the one that answers 500) with its request
id and route, and a worker job's failure (not a retry) with the job's name and the
request id it continues. Each event carries the release (`hexmart@<package version>`)
and the environment (`HEXMART_ENVIRONMENT`).

Never reported: request bodies, headers, cookies, query strings, local variables, user
addresses. The SDK's automatic integrations are off (no framework hooks that would
capture requests, no log lines sent as events, so an error arrives once); every string
of an event goes through the log redaction (`log_redaction.redact`) before it leaves.
Unset, nothing is imported and nothing runs.
"""

from __future__ import annotations

import importlib.metadata
import logging
from typing import Any

from entrypoints.log_redaction import REDACTED, redact
from entrypoints.settings import Settings

log = logging.getLogger(__name__)

_enabled = False

# Keys whose values never leave, whatever they hold.
_SECRET_KEYS = ("password", "token", "secret", "authorization", "api_key", "cookie", "dsn")


def release() -> str:
    try:
        return f"hexmart@{importlib.metadata.version('hexmart')}"
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from source
        return "hexmart@unknown"


def init_error_reporting(settings: Settings, *, component: str) -> None:
    """Start the Sentry client of this process (`component`: app or worker)."""
    global _enabled
    if settings.observability.sentry_dsn is None:
        return
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=settings.observability.sentry_dsn,
        release=release(),
        environment=settings.environment,
        include_local_variables=False,
        max_request_body_size="never",
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[LoggingIntegration(level=logging.INFO, event_level=None)],
        before_send=scrub,
        before_breadcrumb=_scrub_breadcrumb,
    )
    sentry_sdk.set_tag("component", component)
    _enabled = True
    log.info("unhandled errors are reported to Sentry (%s)", release())


def report_error(error: BaseException, **tags: str | None) -> None:
    """Send `error` with `tags` (request_id, route, job) if Sentry is configured."""
    if not _enabled:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        for name, value in tags.items():
            if value is not None:
                scope.set_tag(name, value)
        sentry_sdk.capture_exception(error)


def stop_error_reporting() -> None:
    """Send what is queued, then stop (tests; the SDK also flushes at exit)."""
    global _enabled
    if not _enabled:
        return
    import sentry_sdk

    sentry_sdk.flush(timeout=5)
    sentry_sdk.get_client().close()
    _enabled = False


def scrub(event: dict[str, Any], _: Any = None) -> dict[str, Any]:
    """The event without a request body, headers, cookies or query string, and with every
    credential left in its text redacted."""
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = {k: v for k, v in request.items() if k in ("method", "url")}
        if "url" in event["request"]:
            event["request"]["url"] = str(event["request"]["url"]).split("?")[0]
    event.pop("user", None)
    cleaned: dict[str, Any] = _scrub_value(event)
    return cleaned


def _scrub_breadcrumb(crumb: dict[str, Any], _: Any = None) -> dict[str, Any]:
    cleaned: dict[str, Any] = _scrub_value(crumb)
    return cleaned


def _scrub_value(value: Any, key: str = "") -> Any:
    if key and any(secret in key.lower() for secret in _SECRET_KEYS):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(v) for v in value]
    return value
