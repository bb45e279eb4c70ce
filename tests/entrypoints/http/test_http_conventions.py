"""The HTTP contract's conventions that hold for every route: problem details, status codes for
errors, request ids, body limits, security headers and CORS."""

from __future__ import annotations

import inspect
import logging
import re
from typing import Any

import pytest
from dependency_injector import providers
from litestar import get

from application.ports import errors as port_errors
from domain import errors
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.http.errors import DOMAIN_PROBLEMS, RateLimited
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import Client, assert_problem, error_fields, serving


async def test_a_request_id_is_echoed(client: Client) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "abc-123.retry:2"})

    assert response.headers["x-request-id"] == "abc-123.retry:2"


async def test_a_request_id_is_made_when_missing_or_unfit_to_echo(client: Client) -> None:
    missing = await client.get("/health/live")
    unfit = await client.get("/health/live", headers={"X-Request-ID": "x" * 500})
    spaced = await client.get("/products/nope", headers={"X-Request-ID": "a b"})

    for response in (missing, unfit, spaced):
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert missing.headers["x-request-id"] != unfit.headers["x-request-id"]


async def test_unknown_routes_and_methods_are_problems_too(client: Client) -> None:
    not_found = await client.get("/no/such/route", headers={"X-Request-ID": "req-1"})
    not_allowed = await client.delete("/health/live")

    body = assert_problem(not_found, 404)
    assert body["instance"] == "/no/such/route"
    assert not_found.headers["x-request-id"] == "req-1"
    assert_problem(not_allowed, 405)


async def test_a_body_over_the_limit_is_413(client: Client, container: Container) -> None:
    limit = container.settings().http.max_request_body_bytes
    huge = '{"email": "' + "a" * limit + '@example.com", "password": "x", "full_name": "x"}'

    response = await client.post(
        "/auth/register", content=huge, headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 413)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b""])
async def test_malformed_bodies_are_400(client: Client, body: bytes) -> None:
    response = await client.post(
        "/auth/login", content=body, headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 400)


async def test_unknown_fields_are_400_and_named(client: Client) -> None:
    response = await client.post(
        "/auth/login", json={"email": "a@example.com", "password": "x", "is_admin": True}
    )

    body = assert_problem(response, 400)
    assert body["errors"] == [{"field": "is_admin", "message": "is not allowed"}]
    assert body["type"] == "urn:hexmart:problem:validation-error"


async def test_wrong_types_are_400_and_named(client: Client) -> None:
    response = await client.post("/auth/login", json={"email": 7, "password": "x"})

    assert error_fields(response) == {"email"}


async def test_security_headers_on_every_response(client: Client) -> None:
    for response in (await client.get("/health/live"), await client.get("/nope")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in response.headers


async def test_hsts_only_over_https(app: Any) -> None:
    async with serving(app, "https://shop.example") as https_client:
        response = await https_client.get("/health/live")

    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_allows_only_the_configured_origins() -> None:
    settings = settings_for_tests(cors_origins=("https://shop.example",))
    app = create_app(in_memory_container(settings), background_jobs=False)
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
    }

    async with serving(app) as client:
        allowed = await client.options(
            "/orders", headers={"Origin": "https://shop.example", **preflight}
        )
        refused = await client.options(
            "/orders", headers={"Origin": "https://evil.example", **preflight}
        )
        simple = await client.get("/products", headers={"Origin": "https://shop.example"})

    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert "idempotency-key" in allowed.headers["access-control-allow-headers"].lower()
    assert refused.headers.get("access-control-allow-origin") != "https://evil.example"
    assert simple.headers["access-control-allow-origin"] == "https://shop.example"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


class _BrokenCatalog:
    async def list_products(self, *_: Any) -> None:
        raise RuntimeError('psycopg.errors.UndefinedTable: relation "products_secret" is missing')


async def test_an_unexpected_error_is_a_bare_500_and_goes_to_the_log(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    container.catalog.override(providers.Object(_BrokenCatalog()))
    app = create_app(container, background_jobs=False)

    with caplog.at_level(logging.ERROR, logger="entrypoints.http.errors"):
        async with serving(app) as client:
            response = await client.get("/products", headers={"X-Request-ID": "trace-me"})

    body = assert_problem(response, 500)
    assert body["type"] == "urn:hexmart:problem:internal-error"
    for leak in ("Traceback", "RuntimeError", "psycopg", "products_secret", "_BrokenCatalog"):
        assert leak not in response.text
    assert "trace-me" in body["detail"]
    assert "trace-me" in caplog.text
    assert "products_secret" in caplog.text


async def test_rate_limiting_is_429_with_retry_after(app: Any) -> None:
    @get("/limited", sync_to_thread=False)
    def limited() -> None:
        raise RateLimited(retry_after_seconds=17)

    app.register(limited)
    async with serving(app) as client:
        response = await client.get("/limited")

    assert_problem(response, 429)
    assert response.headers["retry-after"] == "17"


async def test_a_backing_service_down_is_503(app: Any) -> None:
    @get("/busy", sync_to_thread=False)
    def busy() -> None:
        raise port_errors.ServiceUnavailable("the database is too busy right now; please retry")

    app.register(busy)
    async with serving(app) as client:
        response = await client.get("/busy")

    assert assert_problem(response, 503)["detail"].startswith("the database is too busy")


def test_every_domain_error_class_has_its_own_status_code() -> None:
    classes = {
        cls
        for module in (errors, port_errors)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, errors.DomainError) and cls.__module__ == module.__name__
    }

    assert classes == set(DOMAIN_PROBLEMS)
    statuses = {cls: kind.status for cls, kind in DOMAIN_PROBLEMS.items()}
    assert statuses[errors.InvalidValue] == 400
    assert statuses[errors.AuthenticationFailed] == 401
    assert statuses[errors.PermissionDenied] == 403
    assert statuses[errors.NotFound] == 404
    assert statuses[errors.OutOfStock] == statuses[errors.IllegalTransition] == 409
    assert statuses[errors.IdempotencyKeyReused] == 409
    assert statuses[errors.RuleViolation] == 422
    assert statuses[port_errors.ServiceUnavailable] == 503
    assert statuses[port_errors.PaymentProviderError] == 503
