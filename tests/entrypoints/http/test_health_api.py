"""/health: live while the process runs; ready only when the database answers."""

from __future__ import annotations

from datetime import timedelta

from dependency_injector import providers

from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.entrypoints.http.shop_api import Client, assert_problem, serving


async def test_live(client: Client) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_ready_checks_the_database(client: Client) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "outbox": "ok"}}


async def test_an_outbox_backlog_past_the_alert_threshold_is_degraded_not_unready(
    container: Container, client: Client
) -> None:
    # The first admin's welcome waits in the outbox: this shop's queue runs nothing.
    clock = container.clock()
    clock.advance(timedelta(seconds=120))
    at_threshold = await client.get("/health/ready")
    clock.advance(timedelta(seconds=1))
    past_it = await client.get("/health/ready")

    assert at_threshold.json() == {"status": "ok", "checks": {"database": "ok", "outbox": "ok"}}
    assert past_it.status_code == 200
    assert past_it.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "outbox": "degraded"},
        "details": {
            "outbox": "the oldest unhandled outbox message is 121 s old (alert after 120 s)"
        },
    }


class _DatabaseDown:
    def __call__(self) -> _DatabaseDown:
        return self

    async def __aenter__(self) -> _DatabaseDown:
        raise ConnectionRefusedError("connection to 10.0.0.5:5432 refused")

    async def __aexit__(self, *_: object) -> None:
        return None


async def test_not_ready_names_the_failing_check(container: Container) -> None:
    app = create_app(container, background_jobs=False)
    async with serving(app) as client:
        container.unit_of_work.override(providers.Object(_DatabaseDown()))
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")

    body = assert_problem(ready, 503)
    assert body["checks"] == {"database": "failed", "outbox": "failed"}
    assert body["detail"] == "not ready: database failed"
    assert "database" in body["detail"]
    assert "10.0.0.5" not in ready.text
    assert live.status_code == 200
