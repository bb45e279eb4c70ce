"""The app against its own OpenAPI document: schemathesis generates requests for every
operation from /schema/openapi.json, valid ones and invalid ones, and checks that none is a
server error, that every response (status code, content type, body) is one the document
declares, and that invalid input is refused.

It runs as an administrator, so that guarded operations get past their guards and reach
their input validation and use cases. The shop is in memory (this test is about the HTTP
contract, not the database) and the app's lifespan runs, as under a server. Under `CI` the
examples are derandomised.

The operations are driven with plain Hypothesis rather than schemathesis' pytest loader
(`schemathesis.pytest.from_fixture`), which fails under pytest 9 (it reads
`request.node._nodeid`); a failure names the operation and the shrunk request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis import APIOperation, BaseSchema, GenerationMode, checks
from schemathesis.python import asgi

from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.http.shop_api import ADMIN_EMAIL, PASSWORD, a_product, an_address

# Enough to reach each operation's validation, conversions and error paths, while the
# whole run stays well under a minute on two cores.
MAX_EXAMPLES = 15

# Not a JSON route of API.md: Prometheus text, which test_metrics.py covers.
EXCLUDED_PATHS = ["/metrics"]

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    container = in_memory_container(
        settings_for_tests(
            admin_email=ADMIN_EMAIL,
            admin_password=PASSWORD,
            # Hundreds of requests a minute from one admin: the contract is under test
            # here, not the rate limits (test_rate_limits.py; 429 is documented).
            rate_limit_general_per_client=0,
            rate_limit_register_per_ip=0,
            rate_limit_register_per_account=0,
            rate_limit_login_per_ip=0,
            rate_limit_login_per_account=0,
            rate_limit_login_failures_per_account=0,
            rate_limit_password_reset_per_ip=0,
            rate_limit_password_reset_per_account=0,
        )
    )
    app = create_app(container, background_jobs=False)
    # schemathesis serves the app, and its lifespan, in an event loop of its own.
    with asgi.get_client(app) as client:
        response = client.post("/auth/login", json={"email": ADMIN_EMAIL, "password": PASSWORD})
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        known_ids = _seed_shop(client, {"Authorization": f"Bearer {token}"})
        schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    schema.config.generation.update(
        max_examples=MAX_EXAMPLES,
        deterministic=bool(os.environ.get("CI")),
        # The admin's token goes with every request, never generated credentials.
        with_security_parameters=False,
    )
    try:
        yield Shop(
            schema.exclude(path=EXCLUDED_PATHS), {"Authorization": f"Bearer {token}"}, known_ids
        )
    finally:
        asgi.shutdown_lifespans()


def _seed_shop(client: Any, admin: dict[str, str]) -> dict[str, str]:
    """A product, a customer, an API key and an order that exist, so that requests naming
    them get past "404 not found" to the use cases; returns their ids by path parameter."""

    def created(response: Any) -> dict[str, Any]:
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    product = created(client.post("/products", json=a_product(), headers=admin))
    customer = created(
        client.post(
            "/auth/register",
            json={"email": "ann@example.com", "password": PASSWORD, "full_name": "Ann"},
        )
    )
    key = created(
        client.post("/api-keys", json={"name": "partner", "scopes": ["orders:read"]}, headers=admin)
    )
    client.put(f"/cart/items/{product['id']}", json={"quantity": 1}, headers=admin)
    placed = created(
        client.post(
            "/orders",
            json={"shipping_address": an_address()},
            headers={**admin, "Idempotency-Key": "seed"},
        )
    )
    return {
        "product_id": product["id"],
        "user_id": customer["user"]["id"],
        "key_id": key["id"],
        "order_id": placed["order"]["id"],
    }


@dataclass(frozen=True)
class Shop:
    schema: BaseSchema
    admin_headers: dict[str, str]
    known_ids: dict[str, str]

    def ids_for(self, operation: APIOperation) -> dict[str, str] | None:
        """Existing ids for every path parameter of `operation`; None if it has none."""
        names = [parameter.name for parameter in operation.path_parameters]
        if not names or not set(names) <= set(self.known_ids):
            return None
        return {name: self.known_ids[name] for name in names}


def _failure(
    shop: Shop,
    operation: APIOperation,
    mode: GenerationMode,
    path_parameters: dict[str, str] | None = None,
) -> str | None:
    """The first (shrunk) failing case of `operation` in `mode`, described; None if none."""
    settings = hypothesis.settings(
        shop.schema.config.get_hypothesis_settings(operation=operation),
        # An operation with nothing to get wrong (no parameters, no body) has no negative
        # cases: generating them filters out everything.
        suppress_health_check=[*HealthCheck],
    )

    @hypothesis.settings(settings)
    @hypothesis.given(
        case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
    )
    def exercise(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=shop.admin_headers, checks=CHECKS)

    try:
        exercise()
    except hypothesis.errors.Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, operation.label
    except Exception as error:
        known = " with existing ids" if path_parameters else ""
        return f"{operation.label} [{mode.value}{known}]: {error}"
    return None


def test_every_operation_answers_as_its_openapi_document_says(shop: Shop) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in shop.schema.get_all_operations()]
    # Deletions last, so that the seeded product and key exist for everything else.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    assert len(operations) > 30
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if (failure := _failure(shop, operation, mode)) is not None:
                failures.append(failure)
        # The same operation on things that exist: bodies reach the use cases.
        if (ids := shop.ids_for(operation)) is not None:
            failure = _failure(shop, operation, GenerationMode.POSITIVE, ids)
            if failure is not None:
                failures.append(failure)
    assert not failures, "\n\n".join(failures)
