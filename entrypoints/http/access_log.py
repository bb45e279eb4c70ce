"""One access-log line per HTTP request (logger `hexmart.access`, replacing uvicorn's):
method, route template, path, status, duration, bytes sent, client IP (as uvicorn
resolved it through the trusted proxies), the user id or API key id (never a token) and
the request id, which every other line written while answering carries too."""

from __future__ import annotations

import logging
import time

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from application.message_context import work_context
from entrypoints.http.metrics import route_template
from entrypoints.http.request_ids import request_id_of
from entrypoints.http.security import principal_in
from entrypoints.logs import request_id_var
from entrypoints.tracing import current_traceparent, span

log = logging.getLogger("hexmart.access")


class AccessLogMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        status = 500  # if the app fails before it answers
        sent = 0

        async def send_and_note(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        request_id = request_id_of(scope)
        token = request_id_var.set(request_id)
        with span(
            f"{scope['method']} {scope['path']}", **{"http.request_id": request_id}
        ) as current:
            # Outbox messages written while answering carry the request id (and the trace
            # context) to their jobs.
            context_token = work_context.set({"request_id": request_id, **current_traceparent()})
            try:
                await next_app(scope, receive, send_and_note)
            finally:
                route = route_template(scope.get("path_template") or "unmatched")
                if current is not None:
                    current.update_name(f"{scope['method']} {route}")
                    current.set_attribute("http.route", route)
                    current.set_attribute("http.response.status_code", status)
                _log_access(scope, route, status, sent, time.perf_counter() - started)
                work_context.reset(context_token)
                request_id_var.reset(token)


def _log_access(scope: Scope, route: str, status: int, sent: int, seconds: float) -> None:
    duration_ms = round(seconds * 1000, 2)
    path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    target = f"{path}?{query}" if query else path
    client = scope.get("client")
    principal = principal_in(scope)
    log.info(
        "%s %s %s %.1fms",
        scope["method"],
        target,
        status,
        duration_ms,
        extra={
            "method": scope["method"],
            "route": route,
            "path": target,
            "status": status,
            "duration_ms": duration_ms,
            "bytes": sent,
            "client_ip": client[0] if client else None,
            "user_id": principal.user_id if principal else None,
            "api_key_id": principal.api_key_id if principal else None,
        },
    )
