"""OpenTelemetry traces, when `HEXMART_OTEL_ENDPOINT` is set (OTLP over HTTP, e.g.
`http://collector:4318`): a span for each HTTP request, each SQL statement, each Redis
command, each outgoing httpx call (the Stripe SDK's) and each background job. An outbox
message keeps the W3C `traceparent` of the request that wrote it
(application.message_context), and the job that handles it starts its span as that
request span's child: one trace from `POST /orders` to the email job.

Unset, nothing is imported, no exporter runs, and each hook below is one `if`.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Iterator, Mapping
from typing import Any

from entrypoints.settings import Settings

_tracer: Any = None


def tracing_enabled() -> bool:
    return _tracer is not None


def init_tracing(settings: Settings, *, service: str) -> None:
    """Start exporting this process's spans as `service` (hexmart-app, hexmart-worker)."""
    global _tracer
    if settings.observability.otel_endpoint is None or _tracer is not None:
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    try:
        version = importlib.metadata.version("hexmart")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from source
        version = "unknown"
    provider = TracerProvider(
        resource=Resource.create(
            {
                "service.name": service,
                "service.version": version,
                "deployment.environment": settings.environment,
            }
        )
    )
    endpoint = settings.observability.otel_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint), schedule_delay_millis=1000)
    )
    trace.set_tracer_provider(provider)
    RedisInstrumentor().instrument()
    # The Stripe SDK calls the API through httpx: a span per Stripe call.
    HTTPXClientInstrumentor().instrument()
    _tracer = trace.get_tracer("hexmart")


@contextlib.contextmanager
def span(name: str, *, parent: Mapping[str, str] | None = None, **attributes: Any) -> Iterator[Any]:
    """A span named `name` (nothing when tracing is off); `parent`: a carrier holding a
    W3C `traceparent` to continue."""
    if _tracer is None:
        yield None
        return
    from opentelemetry.propagate import extract

    context = extract(dict(parent)) if parent else None
    with _tracer.start_as_current_span(name, context=context) as current:
        for key, value in attributes.items():
            if value is not None:
                current.set_attribute(key, value)
        yield current


def current_traceparent() -> dict[str, str]:
    """The current span's W3C trace context, to store with an outbox message."""
    if _tracer is None:
        return {}
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return {k: v for k, v in carrier.items() if k in ("traceparent", "tracestate")}


def trace_sql(engine: Any) -> None:
    """A span per SQL statement on `engine` (an AsyncEngine), when tracing is on."""
    if _tracer is None:
        return
    from sqlalchemy import event

    tracer = _tracer

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        current = tracer.start_span(
            statement.split(None, 1)[0].upper() if statement else "SQL",
            attributes={"db.system": engine.dialect.name, "db.statement": statement[:1000]},
        )
        conn.info.setdefault("hexmart.spans", []).append(current)

    def after(conn: Any, *_: Any) -> None:
        spans = conn.info.get("hexmart.spans")
        if spans:
            spans.pop().end()

    def failed(context: Any) -> None:
        spans = context.connection.info.get("hexmart.spans") if context.connection else None
        if spans:
            spans.pop().end()

    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", before)
    event.listen(sync_engine, "after_cursor_execute", after)
    event.listen(sync_engine, "handle_error", failed)
