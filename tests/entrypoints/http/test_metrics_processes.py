"""`hexmart serve --workers 2`: one scrape of /metrics reports the sum over both
processes, whichever of them answers it. Real processes: the command itself, a
redis-server of the test's own, a PostgreSQL database of the test session's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.polling import eventually_sync
from tests.real_services import PrivateRedis, free_port

pytestmark = [pytest.mark.integration]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
REQUESTS = 60


@pytest.fixture
def serving_two(tmp_path: Path, clean_postgres_url: str) -> Iterator[str]:
    redis = PrivateRedis(tmp_path)
    redis.start()
    port = free_port()
    log_path = tmp_path / "serve.log"
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT),
        "TMPDIR": str(tmp_path),
        "HEXMART_ENVIRONMENT": "test",
        "HEXMART_DATA_DIR": str(tmp_path / "var"),
        "HEXMART_DATABASE_URL": clean_postgres_url,
        "HEXMART_REDIS_URL": redis.url,
        "HEXMART_MIGRATE_ON_START": "true",
        "HEXMART_LOG_LEVEL": "WARNING",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "entrypoints.testing",
                "serve",
                "--workers",
                "2",
                "--port",
                str(port),
            ],
            cwd=tmp_path,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def live() -> bool:
            assert process.poll() is None, log_path.read_text()
            return httpx.get(f"{url}/health/live", timeout=2).status_code == 200

        eventually_sync(
            live,
            within=120,  # a cold start on a saturated machine; returns as soon as it serves
            interval=0.1,
            ignoring=(httpx.TransportError,),
            message=log_path.read_text,
        )
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        redis.stop()
    assert not list(tmp_path.glob("hexmart-metrics-*")), "the metrics directory is removed"


def _served(text: str, route: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "hexmart_http_requests_total" and sample.labels["route"] == route
    )


def _pid_files(tmp_path: Path) -> set[str]:
    return {p.name.rsplit("_", 1)[-1] for p in tmp_path.glob("hexmart-metrics-*/*.db")}


def test_one_scrape_sums_every_process(serving_two: str, tmp_path: Path) -> None:
    # A new connection per request, so that both processes take some.
    for _ in range(REQUESTS - 1):  # the readiness poll made one already, or more
        httpx.get(f"{serving_two}/health/live", timeout=5, headers={"Connection": "close"})

    assert len(_pid_files(tmp_path)) == 2  # both processes write to the shared directory
    seen = set()
    for _ in range(6):
        text = httpx.get(f"{serving_two}/metrics", timeout=5, headers={"Connection": "close"}).text
        seen.add(_served(text, "/health/live"))
    # Every scrape, whichever process answered it, counts every request.
    assert len(seen) == 1
    assert seen.pop() >= REQUESTS
