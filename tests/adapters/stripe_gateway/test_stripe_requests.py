"""What the Stripe adapter sends, seen by a recording stand-in for the API.

localstripe ignores idempotency keys and never fails on purpose, so the request details
that make retries safe (the key on every call that moves money, the same key on the
SDK's own retry, Stripe's refusal of a key reused with other parameters) and the handling
of 429/5xx answers are pinned against this stub.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from adapters.stripe_gateway import StripePaymentGateway
from application.ports.errors import PaymentProviderError, ProviderKeyReused
from domain.money import Money

INTENT = {
    "id": "pi_stub",
    "object": "payment_intent",
    "amount": 2500,
    "currency": "eur",
    "status": "requires_payment_method",
    "client_secret": "pi_stub_secret",
    "last_payment_error": None,
    "metadata": {"order_id": "ord_1"},
}
PAID_INTENT = {**INTENT, "status": "succeeded"}
REFUND = {
    "id": "re_stub",
    "object": "refund",
    "amount": 700,
    "currency": "eur",
    "status": "succeeded",
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    query: dict[str, str]


@dataclass
class StubStripe:
    """Answers from `replies` (status, body) in turn, then 200 with the route's body."""

    requests: list[Request] = field(default_factory=list)
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.requests.append(
            Request(request.method, request.path, dict(request.headers), form, dict(request.query))
        )
        if self.replies:
            status, reply = self.replies.pop(0)
            return web.json_response(reply, status=status)
        if request.path.startswith("/v1/refunds"):
            return web.json_response(REFUND)
        if request.method == "GET":
            return web.json_response(PAID_INTENT)
        return web.json_response(INTENT)


@pytest.fixture
async def stub() -> AsyncIterator[StubStripe]:
    stub = StubStripe()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", stub.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    stub.url = f"http://{host}:{port}"
    yield stub
    await runner.cleanup()


@pytest.fixture
async def gateway(stub: StubStripe) -> AsyncIterator[StripePaymentGateway]:
    gateway = StripePaymentGateway("sk_test_stub", "whsec_stub", api_base=stub.url)
    yield gateway
    await gateway.aclose()


def error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


async def test_create_sends_the_amount_the_order_and_the_idempotency_key_only(
    gateway: StripePaymentGateway, stub: StubStripe
) -> None:
    await gateway.create_intent(
        order_id="ord_1", amount=Money(2500, "EUR"), idempotency_key="order:ord_1"
    )
    (sent,) = stub.requests
    assert (sent.method, sent.path) == ("POST", "/v1/payment_intents")
    assert sent.headers["Idempotency-Key"] == "order:ord_1"
    # Nothing localstripe would refuse (description, automatic_payment_methods, ...).
    assert sent.form == {"amount": "2500", "currency": "eur", "metadata[order_id]": "ord_1"}


async def test_a_refund_checks_the_intent_then_sends_its_idempotency_key(
    gateway: StripePaymentGateway, stub: StubStripe
) -> None:
    refund = await gateway.refund(
        intent_id="pi_stub",
        amount=Money(700, "EUR"),
        idempotency_key="refund:ord_1:1",
        reason="customer changed their mind",
    )
    assert refund.amount == Money(700, "EUR")
    check, sent = stub.requests
    assert (check.method, check.path) == ("GET", "/v1/payment_intents/pi_stub")
    assert (sent.method, sent.path) == ("POST", "/v1/refunds")
    assert sent.headers["Idempotency-Key"] == "refund:ord_1:1"
    assert sent.form == {
        "payment_intent": "pi_stub",
        "amount": "700",
        "metadata[hexmart_idempotency_key]": "refund:ord_1:1",
        "metadata[reason]": "customer changed their mind",
    }


async def test_stripe_refusing_a_refund_key_reused_with_other_parameters_is_key_reused(
    gateway: StripePaymentGateway, stub: StubStripe
) -> None:
    # Stripe's answer to a key first used for another amount (localstripe ignores keys).
    stub.replies += [
        (200, PAID_INTENT),
        (
            400,
            error(
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters "
                "they were first used with.",
            ),
        ),
    ]

    with pytest.raises(ProviderKeyReused, match="idempotency key was first used"):
        await gateway.refund(
            intent_id="pi_stub", amount=Money(900, "EUR"), idempotency_key="refund:ord_1:1"
        )

    assert [sent.path for sent in stub.requests] == [
        "/v1/payment_intents/pi_stub",
        "/v1/refunds",
    ]


async def test_listing_refunds_reads_every_page_with_each_refund_s_key(
    gateway: StripePaymentGateway, stub: StubStripe
) -> None:
    def refund(number: int, metadata: dict[str, str]) -> dict[str, Any]:
        # Created in the order 3, 1, 2; Stripe lists newest first, the port oldest first.
        created = {3: 1_700_000_000, 1: 1_700_000_001, 2: 1_700_000_002}[number]
        return {
            **REFUND,
            "id": f"re_{number}",
            "amount": 100 * number,
            "metadata": metadata,
            "created": created,
        }

    def page(refunds: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
        return {"object": "list", "url": "/v1/refunds", "has_more": has_more, "data": refunds}

    stub.replies += [
        (200, page([refund(2, {"hexmart_idempotency_key": "refund:ord_1:2"})], True)),
        (
            200,
            page([refund(1, {"hexmart_idempotency_key": "refund:ord_1:1", "reason": "x"})], True),
        ),
        (200, page([refund(3, {})], False)),
    ]

    refunds = await gateway.list_refunds("pi_stub")

    assert [(r.id, r.amount, r.idempotency_key, r.reason) for r in refunds] == [
        ("re_3", Money(300, "EUR"), None, None),
        ("re_1", Money(100, "EUR"), "refund:ord_1:1", "x"),
        ("re_2", Money(200, "EUR"), "refund:ord_1:2", None),
    ]
    assert [(sent.method, sent.path) for sent in stub.requests] == [("GET", "/v1/refunds")] * 3
    first, second, third = (sent.query for sent in stub.requests)
    assert first == {"payment_intent": "pi_stub", "limit": "100"}
    assert second == {**first, "starting_after": "re_2"}
    assert third == {**first, "starting_after": "re_1"}


async def test_stripe_refusing_a_refund_beyond_what_is_left_is_a_provider_error(
    gateway: StripePaymentGateway, stub: StubStripe
) -> None:
    # Stripe's answer (localstripe refunds anything, so it cannot show this).
    stub.replies += [
        (200, PAID_INTENT),
        (
            400,
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "amount_too_large",
                    "message": "Refund amount (€25.01) is greater than unrefunded amount "
                    "on charge (€25.00)",
                }
            },
        ),
    ]
    with pytest.raises(PaymentProviderError, match="greater than unrefunded amount"):
        await gateway.refund(intent_id="pi_stub", amount=Money(2501, "EUR"), idempotency_key="k")


async def test_stripes_reason_code_is_sent_only_when_configured(stub: StubStripe) -> None:
    gateway = StripePaymentGateway(
        "sk_test_stub",
        "whsec_stub",
        api_base=stub.url,
        refund_reason_code="requested_by_customer",
    )
    try:
        await gateway.refund(intent_id="pi_stub", amount=Money(700, "EUR"), idempotency_key="k")
    finally:
        await gateway.aclose()
    assert stub.requests[-1].form["reason"] == "requested_by_customer"


async def test_a_retry_after_a_server_error_repeats_the_same_idempotency_key(
    gateway: StripePaymentGateway, stub: StubStripe
) -> None:
    stub.replies.append((500, error("api_error", "try again")))
    intent = await gateway.create_intent(
        order_id="ord_1", amount=Money(2500, "EUR"), idempotency_key="order:ord_1"
    )
    assert intent.id == "pi_stub"
    assert [sent.headers["Idempotency-Key"] for sent in stub.requests] == ["order:ord_1"] * 2


@pytest.mark.parametrize(
    ("status", "reply", "message"),
    [
        (500, error("api_error", "boom"), "boom"),
        (429, error("rate_limit_error", "slow down"), "rate limiting"),
        (400, error("invalid_request_error", "Amount must be positive"), "must be positive"),
        (402, error("card_error", "Your card was declined."), "declined"),
        (200, {"object": "payment_intent", "id": "pi_x"}, "unexpected payment intent"),
    ],
    ids=["5xx", "rate-limited", "invalid-request", "card-error", "malformed-answer"],
)
async def test_every_provider_failure_is_a_payment_provider_error(
    stub: StubStripe, status: int, reply: dict[str, Any], message: str
) -> None:
    gateway = StripePaymentGateway(
        "sk_test_stub", "whsec_stub", api_base=stub.url, max_network_retries=0
    )
    stub.replies.append((status, reply))
    try:
        with pytest.raises(PaymentProviderError, match=message):
            await gateway.retrieve_intent("pi_stub")
    finally:
        await gateway.aclose()
