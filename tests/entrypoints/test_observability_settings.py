"""The observability settings: checked at start-up; with none set, tracing and error
reporting do nothing at all."""

from __future__ import annotations

import pytest

from entrypoints import error_reporting, tracing
from entrypoints.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HEXMART_LOG_FORMAT", "xml", "HEXMART_LOG_FORMAT"),
        ("HEXMART_WORKER_METRICS_PORT", "70000", "HEXMART_WORKER_METRICS_PORT: must be a TCP port"),
        ("HEXMART_SENTRY_DSN", "ftp://key@sentry/1", "HEXMART_SENTRY_DSN: must be an http(s)"),
        ("HEXMART_OTEL_ENDPOINT", "collector:4318", "HEXMART_OTEL_ENDPOINT: must be an http(s)"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_mapping({name: value})
    assert any(message in problem for problem in refused.value.problems), refused.value.problems


def test_good_values_are_read() -> None:
    settings = Settings.from_mapping(
        {
            "HEXMART_LOG_FORMAT": "json",
            "HEXMART_WORKER_METRICS_PORT": "9100",
            "HEXMART_SENTRY_DSN": "https://key@sentry.example/1",
            "HEXMART_OTEL_ENDPOINT": "http://collector:4318",
        }
    )
    assert (settings.observability.log_format, settings.observability.worker_metrics_port) == (
        "json",
        9100,
    )


def test_unset_tracing_and_error_reporting_do_nothing() -> None:
    settings = Settings.from_mapping({})
    tracing.init_tracing(settings, service="hexmart-app")
    error_reporting.init_error_reporting(settings, component="app")

    assert not tracing.tracing_enabled()
    with tracing.span("nothing") as current:
        assert current is None
    assert tracing.current_traceparent() == {}
    error_reporting.report_error(RuntimeError("not sent anywhere"))  # no client: a no-op
