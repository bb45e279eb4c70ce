"""`grep <request id>` shows one checkout across processes: `hexmart serve` and
`hexmart worker` (two real processes, JSON logs, a redis-server of the test's own, one
SQLite file): the access line of POST /orders and every line of the worker's job that
handles the order's `order_placed` event carry the request id the client sent."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.entrypoints.http.shop_api import (
    ADMIN_EMAIL,
    PASSWORD,
    Account,
    create_product,
    login,
    place_order,
    register,
)
from tests.entrypoints.worker.support import migrated_sqlite
from tests.polling import eventually
from tests.real_services import PrivateRedis, free_port

pytestmark = [pytest.mark.integration]

PROJECT_ROOT = Path(__file__).resolve().parents[3]


class Process:
    def __init__(self, folder: Path, name: str, arguments: list[str], env: dict[str, str]):
        self.log_path = folder / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "entrypoints.testing", *arguments],
                cwd=folder,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def lines(self) -> list[dict[str, Any]]:
        """Every line it logged, each a JSON object (json.loads fails the test if not)."""
        text = self.log_path.read_text(errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def running_shop(tmp_path: Path, **settings: str) -> Iterator[tuple[str, Process, Process]]:
    redis = PrivateRedis(tmp_path)
    redis.start()
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT),
        "HEXMART_ENVIRONMENT": "test",
        "HEXMART_DATA_DIR": str(tmp_path / "var"),
        "HEXMART_DATABASE_URL": migrated_sqlite(tmp_path),
        "HEXMART_REDIS_URL": redis.url,
        "HEXMART_ADMIN_EMAIL": ADMIN_EMAIL,
        "HEXMART_ADMIN_PASSWORD": PASSWORD,
        "HEXMART_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "HEXMART_LOG_FORMAT": "json",
        "HEXMART_LOG_LEVEL": "INFO",
        **settings,
    }
    app = Process(tmp_path, "app", ["serve", "--port", str(port)], env)
    worker = Process(tmp_path, "worker", ["worker"], env)
    try:
        yield f"http://127.0.0.1:{port}", app, worker
    finally:
        app.stop()
        worker.stop()
        redis.stop()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[str, Process, Process]]:
    with running_shop(tmp_path) as running:
        yield running


async def _checkout(url: str, request_id: str) -> tuple[Account, dict[str, Any]]:
    """Wait for the app, then a customer places an order; the request ids of the cart and
    checkout requests are `request_id`."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:

        async def serving() -> bool:
            try:
                return (await http.get("/health/live")).status_code == 200
            except httpx.TransportError:
                return False

        # A cold start on a saturated machine; returns as soon as it serves.
        await eventually(serving, within=120, interval=0.1, message="the app did not start")
        admin = await login(http, ADMIN_EMAIL)
        mug = await create_product(http, admin)
        ann = await register(http, "ann@example.com")
        http.headers["X-Request-ID"] = request_id
        return ann, await place_order(http, ann, mug["id"])


async def test_the_request_id_of_a_checkout_reaches_the_workers_email_job(
    shop: tuple[str, Process, Process],
) -> None:
    url, app, worker = shop

    request_id = f"checkout-{uuid.uuid4().hex}"
    ann, order = await _checkout(url, request_id)

    async def job_lines() -> list[dict[str, Any]]:
        lines = [e for e in worker.lines() if e.get("request_id") == request_id]
        return lines if any("order_placed" in e["message"] for e in lines) else []

    carried = await eventually(
        job_lines, interval=0.1, message=f"no worker line carries {request_id}"
    )

    # The job's own lines: the email saved, the notification sent, the event handled.
    placed = [e["message"] for e in carried if "order_placed" in e["message"]]
    assert placed == [m for m in placed if "email sent" in m]
    assert any(e["logger"] == "application.notifications" for e in carried)
    assert any(e["logger"] == "adapters.inprocess.folder_mailer" for e in carried)
    [access] = [
        e for e in app.lines() if e.get("request_id") == request_id and e.get("route") == "/orders"
    ]
    assert (access["logger"], access["method"]) == ("hexmart.access", "POST")
    assert access["status"] == 201
    assert access["user_id"] == ann.id
    assert order["id"]


class CollectorStub:
    """An OTLP/HTTP trace collector: keeps the spans it receives, with their service."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, Any]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource_spans in request.resource_spans:
                    service = next(
                        a.value.string_value
                        for a in resource_spans.resource.attributes
                        if a.key == "service.name"
                    )
                    for scope_spans in resource_spans.scope_spans:
                        collector.spans += [(service, s) for s in scope_spans.spans]
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()
                self.wfile.write(ExportTraceServiceResponse().SerializeToString())

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


async def test_one_trace_runs_from_post_orders_to_the_email_job(tmp_path: Path) -> None:
    collector = CollectorStub()
    try:
        with running_shop(tmp_path, HEXMART_OTEL_ENDPOINT=collector.url) as (url, _, _):
            await _checkout(url, "traced-checkout")

            async def joined() -> list[tuple[Any, Any]]:
                requests = [
                    s
                    for service, s in collector.spans
                    if service == "hexmart-app" and s.name == "POST /orders"
                ]
                jobs = [
                    s
                    for service, s in collector.spans
                    if service == "hexmart-worker" and s.name == "job handle_event"
                ]
                return [
                    (r, j)
                    for r in requests
                    for j in jobs
                    if j.trace_id == r.trace_id and j.parent_span_id == r.span_id
                ]

            pairs = await eventually(
                joined,
                interval=0.1,
                message=f"no job span continues POST /orders: {collector.spans}",
            )
    finally:
        collector.close()

    request_span, _ = pairs[0]
    trace = [s for _, s in collector.spans if s.trace_id == request_span.trace_id]
    assert {s.name for s in trace} >= {"POST /orders", "job handle_event"}
