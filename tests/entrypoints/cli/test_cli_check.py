"""`hexmart check`: the settings, then every configured service, against real local
servers (PostgreSQL, Redis, localstripe, moto's S3, aiosmtpd) and closed ports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.sql.migrate import upgrade_to_head
from tests.entrypoints.cli.conftest import Hexmart
from tests.real_services import RecordingSmtpServer
from tests.s3_server import MotoServer
from tests.stripe_server import API_KEY, LocalStripe, closed_port, running_localstripe


@pytest.fixture(scope="module")
def localstripe() -> Iterator[LocalStripe]:
    with running_localstripe() as server:
        yield server


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    server = RecordingSmtpServer()
    server.start()
    yield server
    server.stop()


def report(result: Any) -> dict[str, tuple[str, str]]:
    return {row["service"]: (row["status"], row["detail"]) for row in json.loads(result.stdout)}


def test_the_embedded_default_passes(hexmart: Hexmart) -> None:
    result = hexmart("check", "--json")

    assert result.exit_code == 0, result.output
    rows = report(result)
    assert rows["database"][0] == "ok"
    assert "migrated to" in rows["database"][1]
    assert rows["redis"][0] == rows["payments"][0] == "skipped"
    assert rows["files"][0] == rows["email"][0] == "ok"
    assert "settings: valid" in hexmart("check").stdout


def test_every_configured_service_is_reached(
    hexmart: Hexmart,
    empty_postgres_url: str,
    localstripe: LocalStripe,
    moto_server: MotoServer,
    s3_bucket: str,
    smtp_server: RecordingSmtpServer,
) -> None:
    upgrade_to_head(empty_postgres_url)
    result = hexmart(
        "check",
        "--json",
        HEXMART_DATABASE_URL=empty_postgres_url,
        HEXMART_REDIS_URL="redis://127.0.0.1:6379/9",
        HEXMART_STRIPE_API_KEY=API_KEY,
        HEXMART_STRIPE_WEBHOOK_SECRET="whsec_test",
        HEXMART_STRIPE_API_BASE=localstripe.url,
        HEXMART_S3_BUCKET=s3_bucket,
        HEXMART_S3_ENDPOINT_URL=moto_server.url,
        HEXMART_S3_ACCESS_KEY_ID="testing",
        HEXMART_S3_SECRET_ACCESS_KEY="testing",
        HEXMART_SMTP_URL=smtp_server.url,
    )

    assert result.exit_code == 0, result.output
    rows = report(result)
    assert {service: status for service, (status, _) in rows.items()} == dict.fromkeys(
        ("database", "redis", "payments", "files", "email"), "ok"
    )
    assert "latest" in rows["database"][1]
    assert "test mode" in rows["payments"][1]
    assert "write, read, delete ok" in rows["files"][1]


def test_failures_are_rows_and_exit_1(hexmart: Hexmart, empty_postgres_url: str) -> None:
    port = closed_port()
    result = hexmart(
        "check",
        "--json",
        HEXMART_DATABASE_URL=empty_postgres_url,
        HEXMART_REDIS_URL=f"redis://127.0.0.1:{port}/0",
        HEXMART_STRIPE_API_KEY=API_KEY,
        HEXMART_STRIPE_WEBHOOK_SECRET="whsec_test",
        HEXMART_STRIPE_API_BASE=f"http://127.0.0.1:{port}",
        HEXMART_SMTP_URL=f"smtp://127.0.0.1:{port}",
    )

    assert result.exit_code == 1
    rows = report(result)
    assert rows["database"] == ("failed", rows["database"][1])
    assert "run hexmart migrate" in rows["database"][1]
    for service in ("redis", "payments", "email"):
        assert rows[service][0] == "failed", rows[service]
    assert "Traceback" not in result.output


def test_bad_settings_are_exit_2(hexmart: Hexmart) -> None:
    result = hexmart("check", HEXMART_STRIPE_API_KEY="sk_test_x")
    assert result.exit_code == 2
    assert "HEXMART_STRIPE_WEBHOOK_SECRET" in result.stderr
