"""A Python client generated from the served OpenAPI document with openapi-python-client,
as a consumer who never reads hexmart's code would make one, runs the customer journey
and the main refusals against a real `hexmart serve --demo`, through its typed methods
and models only (every answer parsed into the model the document names, problems too)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.entrypoints.http.live_server import LiveServer
from tests.entrypoints.http.shop_api import PASSWORD
from tests.polling import eventually_sync

PAY_DEADLINE_SECONDS = 60.0


class Generated:
    """The generated package `hexmart_client`, and the live shop it talks to."""

    def __init__(self, package: Path, server: LiveServer) -> None:
        sys.path.insert(0, str(package.parent))
        self.server = server
        self.client = importlib.import_module("hexmart_client")
        self.models = importlib.import_module("hexmart_client.models")

    def api(self, module: str) -> ModuleType:
        return importlib.import_module(f"hexmart_client.api.{module}")

    def anonymous(self) -> Any:
        return self.client.Client(base_url=self.server.url, raise_on_unexpected_status=True)

    def signed_in(self, token: str) -> Any:
        return self.client.AuthenticatedClient(
            base_url=self.server.url, token=token, raise_on_unexpected_status=True
        )


@pytest.fixture(scope="module")
def generated(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Generated]:
    workdir = tmp_path_factory.mktemp("python-client")
    document = workdir / "openapi.json"
    document.write_bytes(httpx.get(f"{live_server.url}/schema/openapi.json").content)
    config = workdir / "config.yaml"
    config.write_text("post_hooks: []\n")
    generator = Path(sys.executable).with_name("openapi-python-client")
    subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(workdir / "hexmart_client"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    yield Generated(workdir / "hexmart_client", live_server)
    sys.path.remove(str(workdir))
    for name in [name for name in sys.modules if name.startswith("hexmart_client")]:
        del sys.modules[name]


def _register(shop: Generated, email: str) -> Any:
    models = shop.models
    response = shop.api("auth.register").sync_detailed(
        client=shop.anonymous(),
        body=models.Registration(email=email, password=PASSWORD, full_name="Ann Archer"),
    )
    assert response.status_code == 201, response.content
    assert isinstance(response.parsed, models.Tokens)
    return response.parsed


def _address(shop: Generated, **changes: str) -> Any:
    fields = {
        "name": "Ann Archer",
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
        **changes,
    }
    return shop.models.ShippingAddress(**fields)


def test_a_customer_buys_pays_and_is_refunded_through_the_generated_client(
    generated: Generated,
) -> None:
    shop, models = generated, generated.models
    tokens = _register(shop, "journey@example.com")
    ann = shop.signed_in(tokens.access_token)

    page = shop.api("catalog.list_products").sync(
        client=shop.anonymous(), limit=5, in_stock=True, sort=models.ProductSort.PRICE
    )
    assert isinstance(page, models.ProductPage)
    assert page.items
    product = shop.api("catalog.get_product").sync(page.items[0].id, client=shop.anonymous())
    assert isinstance(product, models.Product)

    cart = shop.api("cart.set_item").sync(product.id, client=ann, body=models.CartLine(quantity=2))
    assert isinstance(cart, models.Cart)
    assert cart.total.amount == 2 * product.price.amount

    checkout = models.Checkout(shipping_address=_address(shop))
    placed = shop.api("orders.place_order").sync_detailed(
        client=ann, body=checkout, idempotency_key="journey-1"
    )
    assert placed.status_code == 201, placed.content
    assert isinstance(placed.parsed, models.PlacedOrder)
    order = placed.parsed.order
    assert order.status == models.OrderStatus.PENDING
    # A retry with the same key and body is the same order, not a second one.
    again = shop.api("orders.place_order").sync(
        client=ann, body=checkout, idempotency_key="journey-1"
    )
    assert isinstance(again, models.PlacedOrder)
    assert again.order.id == order.id

    # The local gateway completes the payment by itself, as the provider's webhook would.
    seen = eventually_sync(
        lambda: shop.api("orders.get_order").sync(order.id, client=ann),
        lambda seen: seen.status == models.OrderStatus.PAID,
        within=PAY_DEADLINE_SECONDS,
        interval=0.1,
    )
    assert isinstance(seen, models.OrderDetail)
    assert seen.status == models.OrderStatus.PAID

    admin_tokens = shop.api("auth.login").sync(
        client=shop.anonymous(),
        body=models.Login(email=shop.server.admin_email, password=shop.server.admin_password),
    )
    admin = shop.signed_in(admin_tokens.access_token)
    amount = models.RefundRequestAmountType0(
        amount=500, currency=models.RefundRequestAmountType0Currency.USD
    )
    refunded = shop.api("orders.refund_order").sync_detailed(
        order.id, client=admin, body=models.RefundRequest(amount=amount, reason="scratched")
    )
    assert refunded.status_code == 201, refunded.content
    assert isinstance(refunded.parsed, models.Order)
    assert refunded.parsed.refunded_amount.amount == 500
    payments = shop.api("orders.list_payments").sync(order.id, client=ann)
    assert isinstance(payments, models.PaymentList)
    assert payments.items[0].refunded_amount.amount == 500


def test_the_main_refusals_come_back_as_typed_problems(generated: Generated) -> None:
    shop, models = generated, generated.models
    ann = shop.signed_in(_register(shop, "refused-ann@example.com").access_token)
    bob = shop.signed_in(_register(shop, "refused-bob@example.com").access_token)
    product = shop.api("catalog.list_products").sync(client=shop.anonymous(), limit=1).items[0]
    shop.api("cart.set_item").sync(product.id, client=ann, body=models.CartLine(quantity=1))
    order = (
        shop.api("orders.place_order")
        .sync(
            client=ann, body=models.Checkout(shipping_address=_address(shop)), idempotency_key="k-1"
        )
        .order
    )

    no_token = shop.api("orders.get_order").sync_detailed(order.id, client=shop.anonymous())
    not_admin = shop.api("orders.refund_order").sync_detailed(
        order.id, client=ann, body=models.RefundRequest()
    )
    not_yours = shop.api("orders.get_order").sync_detailed(order.id, client=bob)
    reused = shop.api("orders.place_order").sync_detailed(
        client=ann,
        body=models.Checkout(shipping_address=_address(shop, city="Shelbyville")),
        idempotency_key="k-1",
    )

    assert no_token.status_code == 401
    assert isinstance(no_token.parsed, models.Problem401)
    assert not_admin.status_code == 403
    assert isinstance(not_admin.parsed, models.Problem403)
    assert not_yours.status_code == 404
    assert isinstance(not_yours.parsed, models.Problem404)
    assert not_yours.parsed.type_ == models.Problem404Type.URNHEXMARTPROBLEMNOT_FOUND
    assert reused.status_code == 409
    assert isinstance(reused.parsed, models.Problem409)
    assert reused.parsed.type_ == models.Problem409Type.URNHEXMARTPROBLEMIDEMPOTENCY_KEY_REUSED
