"""What an outbox message carries of the work that wrote it: the request id (and the W3C
`traceparent` when tracing runs), so that the job handling the message later, in another
process, logs under the same request id and continues the same trace.

An entrypoint sets `work_context` while it serves a request; `outbox_message` copies it
into each message written meanwhile; the relay hands it on with the job.
"""

from __future__ import annotations

from contextvars import ContextVar

work_context: ContextVar[dict[str, str] | None] = ContextVar("hexmart_work_context", default=None)


def current_work_context() -> dict[str, str] | None:
    context = work_context.get()
    return dict(context) if context else None
