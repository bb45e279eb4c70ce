"""A WebSocket client that talks to the ASGI app directly, in the test's own event loop
(httpx speaks no WebSocket, and Litestar's test client runs the app in a thread of its
own, while these tests also drive the container and Redis from the test's loop)."""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

from litestar import Litestar


class Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}")
        self.code = code
        self.reason = reason


class WebSocketSession:
    """`async with WebSocketSession(app, "/ws/...") as ws:` connects (the server's accept
    or refusal is awaited); `receive_json`, `send_text` and `closed` then talk to it."""

    def __init__(
        self,
        app: Litestar,
        path: str,
        *,
        query: str = "",
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        self._app = app
        self._scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"testserver.local"), *headers],
            "client": ("127.0.0.1", 40000),
            "server": ("testserver.local", 80),
            "subprotocols": [],
            "state": {},
            "extensions": {},
        }
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.accepted = False
        self.accept_headers: dict[str, str] = {}

    async def __aenter__(self) -> WebSocketSession:
        self._task = asyncio.create_task(
            self._app(self._scope, self._to_app.get, self._from_app.put)  # type: ignore[arg-type]
        )
        await self._to_app.put({"type": "websocket.connect"})
        first = await self._next(10.0)
        if first["type"] != "websocket.accept":
            raise Closed(first.get("code", 1000), first.get("reason", ""))
        self.accepted = True
        self.accept_headers = {
            bytes(name).decode("latin-1").lower(): bytes(value).decode("latin-1")
            for name, value in first.get("headers", ())
        }
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        assert self._task is not None
        await asyncio.wait_for(self._task, 10.0)

    async def send_text(self, text: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def receive_json(self, within: float = 10.0) -> Any:
        """The next message the server sent; raises Closed if it closed instead."""
        message = await self._next(within)
        if message["type"] == "websocket.close":
            raise Closed(message.get("code", 1000), message.get("reason", ""))
        assert message["type"] == "websocket.send", message
        return json.loads(message.get("text") or message["bytes"])

    async def closed(self, within: float = 10.0) -> Closed:
        """Wait for the server to close; returns how."""
        message = await self._next(within)
        assert message["type"] == "websocket.close", message
        return Closed(message.get("code", 1000), message.get("reason", ""))

    async def _next(self, within: float) -> dict[str, Any]:
        assert self._task is not None
        getting = asyncio.ensure_future(self._from_app.get())
        done, _ = await asyncio.wait(
            {getting, self._task}, timeout=within, return_when=asyncio.FIRST_COMPLETED
        )
        if getting in done:
            return getting.result()
        getting.cancel()
        if self._task in done:
            self._task.result()  # the app failed: raise its error here
            raise AssertionError("the app ended the connection without a close message")
        raise AssertionError(f"nothing from the server within {within}s")
