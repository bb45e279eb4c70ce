"""/health: live while the process runs; ready only when the database answers."""

from __future__ import annotations

from dependency_injector import providers

from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.http.shop_api import Client, assert_problem, serving


async def test_live(client: Client) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_ready_checks_the_database(client: Client) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


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
    assert body["checks"] == {"database": "failed"}
    assert "database" in body["detail"]
    assert "10.0.0.5" not in ready.text
    assert live.status_code == 200
