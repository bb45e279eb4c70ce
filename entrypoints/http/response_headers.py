"""Headers every response carries: the request id and the security headers; and
`Cache-Control: no-store` on everything private."""

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
# A request carrying either header gets an answer for its sender only (errors included: a
# 401 or 404 to it says something about that sender's credentials), which no shared cache
# and no browser history may keep. Anonymous answers (the public catalog) are untouched.
CREDENTIAL_HEADERS = (b"authorization", b"x-api-key")
NO_STORE = "no-store"


def _sent_credentials(scope: Scope) -> bool:
    return any(name.lower() in CREDENTIAL_HEADERS for name, _ in scope.get("headers", ()))


async def add_response_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook: runs for every response, errors and 404s included."""
    if message["type"] == "websocket.accept":
        # Every socket is private (its token comes in the query or the first message).
        message.setdefault("headers", [])
        MutableScopeHeaders.from_message(message)["Cache-Control"] = NO_STORE
        return
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    if _sent_credentials(scope):
        headers["Cache-Control"] = NO_STORE
    headers[REQUEST_ID_HEADER] = request_id_of(scope)
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value
    if scope.get("scheme") == "https":
        headers["Strict-Transport-Security"] = HSTS
