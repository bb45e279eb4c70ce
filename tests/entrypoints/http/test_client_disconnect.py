"""A client that hangs up while its request body is on the way is logged as what it is:
one line at INFO, no traceback, no ERROR."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container
from tests.entrypoints.http.shop_api import serving


async def test_a_client_that_disconnects_mid_body_is_one_info_line_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(in_memory_container())
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"email": "ann@exa', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/auth/login",
        "raw_path": b"/auth/login",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"shop.test"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    async with serving(app):
        caplog.clear()
        with caplog.at_level(logging.INFO):
            await app(scope, receive, send)  # type: ignore[arg-type]

    start = next(message for message in sent if message["type"] == "http.response.start")
    assert start["status"] == 400
    about_it = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert [(r.levelno, r.exc_info) for r in about_it] == [(logging.INFO, None)]
    assert "/auth/login" in about_it[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
