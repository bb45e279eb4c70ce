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
4. While open, every `HEXMART_LIVE_UPDATES_RECHECK_SECONDS` (30) the socket checks its
   access token and the watcher's right to the order again: an expired or ended token
   (deactivation, role or password change) or a lost right closes it (4401, 4403), as a
   new connection would be. A database outage during such a check keeps the socket open
   (it was allowed).

Each connection counts once against the general rate limit (per signed-in user when the
`Authorization` header is sent, else per client IP); over the limit the socket is closed
with 4429 and a reason saying when to try again.
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

from adapters.redis_store.stopping import cancel_until_done
from application.ports.errors import ServiceUnavailable
from application.ports.messaging import OrderUpdate
from application.principal import Principal
from domain.errors import AuthenticationFailed, NotFound
from domain.orders import Order
from domain.values import could_be_id
from entrypoints.container import Container
from entrypoints.http.errors import RateLimited
from entrypoints.http.rate_limits import client_subject, rate_limits_of
from entrypoints.http.state import container_from_app

log = logging.getLogger(__name__)

TOKEN_WAIT_SECONDS = 10.0
UNAUTHENTICATED = 4401
FORBIDDEN = 4403
TRY_AGAIN_LATER = 1013
TOO_MANY_REQUESTS = 4429


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
        if not could_be_id(order_id):  # no order is named so: not worth a query
            raise NotFound("order", "")
        await container.orders().get_order(principal, order_id)
    except AuthenticationFailed:
        return UNAUTHENTICATED, "invalid or expired access token"
    except NotFound:
        return FORBIDDEN, "not allowed to watch this order"
    return principal


async def _until_refused(
    container: Container, access_token: str, order_id: str, every_seconds: float
) -> tuple[int, str]:
    """Check the watcher's right to the order every `every_seconds`, until it is gone;
    then the close code and reason."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            watcher = await _watcher(container, access_token, order_id)
        except ServiceUnavailable as error:
            log.warning("could not recheck a watcher of order %s: %s", order_id, error)
            continue
        if isinstance(watcher, tuple):
            return watcher


async def _over_rate_limit(socket: WebSocket[Any, Any, Any]) -> str | None:
    """Count this connection against the general limit: why it is refused, or None."""
    limits = rate_limits_of(socket)
    try:
        await limits.check(limits.general, await client_subject(socket, limits))
    except RateLimited as error:
        return f"too many requests; try again in {error.retry_after_seconds} s"
    return None


@websocket("/ws/orders/{order_id:str}")
async def order_updates_socket(
    socket: WebSocket[Any, Any, Any], order_id: FromPath[str], token: FromQuery[str | None] = None
) -> None:
    """The order's status, live (see the module docstring)."""
    await socket.accept()
    container = container_from_app(socket.app)
    try:
        refusal = await _over_rate_limit(socket)
    except ServiceUnavailable as error:  # the Authorization header's check met an outage
        log.warning("live updates of order %s unavailable: %s", order_id, error)
        await socket.close(TRY_AGAIN_LATER, "live updates are unavailable; try again later")
        return
    if refusal is not None:
        await socket.close(TOO_MANY_REQUESTS, refusal)
        return
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
            refused = asyncio.create_task(
                _until_refused(
                    container,
                    access_token,
                    order_id,
                    container.settings().http.live_updates_recheck_seconds,
                )
            )
            tasks = {pushing, listening, refused}
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                # Also when this handler is cancelled (the server shutting down): none of
                # the three may outlive the socket.
                await asyncio.gather(
                    *(cancel_until_done(task) for task in tasks if not task.done()),
                    return_exceptions=True,
                )
            if refused in done:
                await socket.close(*refused.result())
                return
            for task in done:
                with contextlib.suppress(WebSocketDisconnect):
                    task.result()
    except ServiceUnavailable as error:
        log.warning("live updates of order %s unavailable: %s", order_id, error)
        await socket.close(TRY_AGAIN_LATER, "live updates are unavailable; try again later")
