"""GET /ws/orders/{order_id}: a WebSocket telling the order's owner, staff or an admin
every status change of the order, `{"order_id", "status", "updated_at"}`, whichever process
made it (the worker or another app process publish it through Redis).

The protocol:
1. The server accepts the connection, then wants the access token: the `token` query
   parameter, or else the first message (the token as text, or `{"token": "..."}`) within
   `TOKEN_WAIT_SECONDS`.
2. No, a bad or an expired token: closed with 4401. Not the owner, staff or an admin (or no
   such order; the two are not told apart): closed with 4403. Redis or the database
   down: closed with 1013, try again later.
3. The order as it stands now, then one message per change. A message never shows an
   older state than the one before it (changes are ordered by `updated_at`), and one the
   socket already showed is not repeated. Messages from the client are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath, FromQuery

from application.ports.messaging import OrderUpdate
from application.principal import Principal
from application.stopping import cancel_until_done
from domain.errors import AuthenticationFailed, NotFound, ServiceUnavailable
from domain.orders import Order
from entrypoints.container import Container
from entrypoints.http.state import container_of

log = logging.getLogger(__name__)

TOKEN_WAIT_SECONDS = 10.0
UNAUTHENTICATED = 4401
FORBIDDEN = 4403
TRY_AGAIN_LATER = 1013


def _update_of(order: Order) -> OrderUpdate:
    return OrderUpdate(order_id=order.id, status=order.status.value, updated_at=order.updated_at)


def _message(update: OrderUpdate) -> str:
    body = {"order_id": update.order_id, "status": update.status, "updated_at": update.updated_at}
    return msgspec.json.encode(body).decode()


def _token_from(text: str) -> str:
    token = text.strip()
    if token.startswith("{"):
        with contextlib.suppress(ValueError):
            value = json.loads(token)
            if isinstance(value, dict) and isinstance(value.get("token"), str):
                token = value["token"].strip()
    return token.removeprefix("Bearer ").strip()


async def _access_token(socket: WebSocket[Any, Any, Any], token: str | None) -> str | None:
    if token:
        return _token_from(token)
    first = await asyncio.wait_for(socket.receive_text(), TOKEN_WAIT_SECONDS)
    return _token_from(first) or None


async def _until_disconnect(socket: WebSocket[Any, Any, Any]) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                return


async def _push(
    socket: WebSocket[Any, Any, Any], now: OrderUpdate, updates: AsyncIterator[OrderUpdate]
) -> None:
    shown = now
    await socket.send_text(_message(shown))
    async for update in updates:
        if update.updated_at < shown.updated_at or update == shown:
            continue  # late or repeated: the socket already showed something newer
        shown = update
        await socket.send_text(_message(shown))


async def _watcher(
    container: Container, access_token: str, order_id: str
) -> Principal | tuple[int, str]:
    """Who may watch the order, or the close code and reason refusing the socket."""
    try:
        principal = await container.authentication().authenticate_access_token(access_token)
        await container.orders().get_order(principal, order_id)
    except AuthenticationFailed:
        return UNAUTHENTICATED, "invalid or expired access token"
    except NotFound:
        return FORBIDDEN, "not allowed to watch this order"
    return principal


@websocket("/ws/orders/{order_id:str}")
async def order_updates_socket(
    socket: WebSocket[Any, Any, Any], order_id: FromPath[str], token: FromQuery[str | None] = None
) -> None:
    """The order's status, live (see the module docstring)."""
    await socket.accept()
    container = container_of(socket.app)
    try:
        access_token = await _access_token(socket, token)
    except TimeoutError:
        access_token = None
    except WebSocketDisconnect:
        return  # gone before saying who it is
    if access_token is None:
        await socket.close(UNAUTHENTICATED, "an access token is required")
        return
    try:
        watcher = await _watcher(container, access_token, order_id)
        if isinstance(watcher, tuple):
            await socket.close(*watcher)
            return
        async with container.order_updates().subscribe(order_id) as updates:
            # Read after subscribing: a change in between is then in `updates`.
            order = await container.orders().get_order(watcher, order_id)
            pushing = asyncio.create_task(_push(socket, _update_of(order), updates))
            listening = asyncio.create_task(_until_disconnect(socket))
            done, pending = await asyncio.wait(
                {pushing, listening}, return_when=asyncio.FIRST_COMPLETED
            )
            await asyncio.gather(
                *(cancel_until_done(task) for task in pending), return_exceptions=True
            )
            for task in done:
                with contextlib.suppress(WebSocketDisconnect):
                    task.result()
    except ServiceUnavailable as error:
        log.warning("live updates of order %s unavailable: %s", order_id, error)
        await socket.close(TRY_AGAIN_LATER, "live updates are unavailable; try again later")
