"""One access line per request (logger `hexmart.access`) with the route template, status,
duration, bytes, client IP, the caller's user id or API key id and the request id; every
other line written while answering carries the same request id; JSON lines parse and hold
no credential."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from entrypoints.log_redaction import RedactCredentials
from entrypoints.logs import AddContext, JsonFormatter
from tests.entrypoints.http.shop_api import Account, Client, issue_api_key


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())
        self.addFilter(AddContext())
        self.addFilter(RedactCredentials())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def access(self) -> list[dict[str, object]]:
        entries = [json.loads(line) for line in self.lines]
        return [e for e in entries if e["logger"] == "hexmart.access"]


@pytest.fixture
def json_lines() -> Iterator[_Keep]:
    handler = _Keep()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


async def test_each_request_gets_one_access_line_with_its_fields(
    client: Client, customer: Account, json_lines: _Keep
) -> None:
    response = await client.get("/users/me", headers={**customer.headers, "X-Request-ID": "req-42"})
    assert response.status_code == 200

    [line] = [e for e in json_lines.access() if e["request_id"] == "req-42"]
    assert line["method"] == "GET"
    assert line["route"] == "/users/me"
    assert line["status"] == 200
    assert line["bytes"] == len(response.content)
    assert isinstance(line["duration_ms"], float)
    assert line["client_ip"] == "127.0.0.1"
    assert line["user_id"] == customer.id
    assert "api_key_id" not in line
    assert customer.access_token not in "".join(json_lines.lines)


async def test_an_api_key_caller_is_named_by_its_key_id_never_its_secret(
    client: Client, admin: Account, json_lines: _Keep
) -> None:
    key = await issue_api_key(client, admin, "orders:read")
    [key_id] = [
        k["id"] for k in (await client.get("/api-keys", headers=admin.headers)).json()["items"]
    ]
    await client.get("/orders", headers={**key, "X-Request-ID": "req-key"})

    [line] = [e for e in json_lines.access() if e["request_id"] == "req-key"]
    assert line["api_key_id"] == key_id
    assert "user_id" not in line
    assert key["X-API-Key"] not in "".join(json_lines.lines)


async def test_route_templates_and_redacted_paths(client: Client, json_lines: _Keep) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4eHh4In0.c2lnbmF0dXJlc2ln"
    await client.get(f"/products/nope?access_token={token}", headers={"X-Request-ID": "r-1"})

    [line] = [e for e in json_lines.access() if e["request_id"] == "r-1"]
    assert line["route"] == "/products/{product_id}"
    assert line["status"] == 404
    assert line["path"] == "/products/nope?access_token=[redacted]"
    assert token not in "".join(json_lines.lines)
