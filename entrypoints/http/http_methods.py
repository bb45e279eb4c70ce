"""HEAD, OPTIONS and 405 as HTTP (RFC 9110) says, which Litestar alone does not do:

- `HEAD` on anything served by `GET` answers as `GET` would, headers only (Litestar routes
  HEAD nowhere: every HEAD was a 405);
- `OPTIONS` answers 204 with `Allow` naming every method of the path (Litestar makes one
  OPTIONS handler per controller, so `/api-keys` advertised `POST` without `GET`);
- a `405` names the same methods in `Allow`, `HEAD` included.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import Message, Receive, Scope, Send

_PARAMETER_TYPE = re.compile(r":[^}]*}")


class ShopApp(Litestar):
    """The Litestar app, with HEAD served from GET and an exact `Allow` header."""

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        method = scope["method"]
        if method == "HEAD":
            scope = {**scope, "method": "GET"}
            send = _headers_only(send)
        await super().__call__(scope, receive, self._exact_allow(scope, method, send))

    @cached_property
    def _methods_by_path(self) -> dict[str, frozenset[str]]:
        methods: dict[str, set[str]] = {}
        for route in self.routes:
            if isinstance(route, HTTPRoute):
                methods.setdefault(_plain(route.path), set()).update(route.methods)
        return {path: frozenset(_with_head(found)) for path, found in methods.items()}

    def _exact_allow(self, scope: Scope, method: str, send: Send) -> Send:
        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and (
                message["status"] == 405 or (method == "OPTIONS" and message["status"] == 204)
            ):
                allowed = self._allowed(scope, message)
                if allowed:
                    headers = [
                        (name, value)
                        for name, value in message.get("headers", [])
                        if name.lower() != b"allow"
                    ]
                    headers.append((b"allow", ", ".join(sorted(allowed)).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        return send_with_allow

    def _allowed(self, scope: Scope, message: Message) -> frozenset[str]:
        template = _plain(str(scope.get("path_template", "")))
        if template in self._methods_by_path:
            return self._methods_by_path[template]
        # A 405 is raised before a route is chosen: Litestar's own header lists the
        # path's methods, to which HEAD belongs wherever GET does.
        for name, value in message.get("headers", []):
            if name.lower() == b"allow":
                listed = {part.strip().upper() for part in value.decode().split(",")}
                return frozenset(_with_head({part for part in listed if part}))
        return frozenset()


def _plain(path: str) -> str:
    """`/orders/{order_id:str}` and `/orders/{order_id}` alike: `/orders/{order_id}`."""
    return _PARAMETER_TYPE.sub("}", path)


def _with_head(methods: set[str]) -> set[str]:
    return methods | {"HEAD", "OPTIONS"} if "GET" in methods else methods | {"OPTIONS"}


def _headers_only(send: Send) -> Send:
    """The GET response, without its body: HEAD keeps the headers (Content-Length too)."""

    async def send_headers(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_headers
