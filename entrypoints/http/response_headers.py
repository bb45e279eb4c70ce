"""Headers every response carries: the request id and the security headers."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from entrypoints.http.request_ids import REQUEST_ID_HEADER, request_id_of

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
# Only over TLS: sent over plain HTTP it would be ignored, and on a dev box it would pin
# the host to HTTPS for a year. Behind a proxy, `hexmart serve` trusts the proxy's
# X-Forwarded-Proto only from HEXMART_TRUSTED_PROXIES, so the scheme here can be trusted.
HSTS = "max-age=31536000; includeSubDomains"


async def add_response_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook: runs for every response, errors and 404s included."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers[REQUEST_ID_HEADER] = request_id_of(scope)
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value
    if scope.get("scheme") == "https":
        headers["Strict-Transport-Security"] = HSTS
