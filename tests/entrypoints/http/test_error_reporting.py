"""HEXMART_SENTRY_DSN: an unhandled error reaches Sentry once, with the request id, the
route, the release and the environment, and without the request's body, headers, query
string or any credential. The "Sentry" is a local HTTP server receiving envelopes."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from dependency_injector import providers

from entrypoints.error_reporting import init_error_reporting, release, stop_error_reporting
from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import serving
from tests.polling import eventually

SECRET = "hunter2-very-secret-passphrase"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


class EnvelopeReceiver:
    """A stand-in for Sentry's ingestion endpoint: keeps each envelope it receives."""

    def __init__(self) -> None:
        self.envelopes: list[list[dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                receiver.envelopes.append(
                    [json.loads(line) for line in body.splitlines() if line.strip()]
                )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.port}/42"

    def events(self) -> list[dict[str, Any]]:
        return [item for envelope in self.envelopes for item in envelope if "exception" in item]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def sentry() -> Iterator[EnvelopeReceiver]:
    receiver = EnvelopeReceiver()
    yield receiver
    stop_error_reporting()
    receiver.close()


class BrokenCache:
    """A cache whose failure no code expects: the request answers 500."""

    async def get_versioned(self, *_: Any) -> Any:
        raise RuntimeError(f"cache exploded; password={SECRET} Authorization: Bearer {JWT}")


async def test_an_unhandled_error_arrives_once_scrubbed(sentry: EnvelopeReceiver) -> None:
    settings = settings_for_tests(sentry_dsn=sentry.dsn, environment="test")
    container = in_memory_container(settings)
    container.cache.override(providers.Object(BrokenCache()))
    init_error_reporting(settings, component="app")

    async with serving(create_app(container, background_jobs=False)) as client:
        response = await client.get(
            f"/products?access_token={JWT}",
            headers={
                "X-Request-ID": "req-sentry-1",
                "Authorization": f"Bearer {JWT}",
                "Cookie": f"session={SECRET}",
            },
        )
        assert response.status_code == 500
        [event] = await eventually(lambda: _async(sentry.events), lambda events: len(events) >= 1)
        stop_error_reporting()  # flushes: a second event, had there been one, is here now

    assert len(sentry.events()) == 1
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["tags"]["route"] == "/products"
    assert event["release"] == release()
    assert event["environment"] == "test"
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert "password=[redacted]" in exception["value"]
    raw = json.dumps(sentry.envelopes)
    for secret in (SECRET, JWT):
        assert secret not in raw
    assert "Cookie" not in raw
    assert "access_token" not in raw


async def _async(probe: Any) -> Any:
    return probe()
