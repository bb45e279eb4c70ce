"""/webhooks/stripe: Stripe tells the shop what happened to a payment.

The `Stripe-Signature` header is the only authentication: no guard, no API key, no rate
limit (Stripe's retries must always get through) and nothing cookie-based that a CSRF
check would protect. The signature is an HMAC over the exact bytes Stripe sent, so the
body is read raw with `request.body()`, before any JSON parsing, and handed on untouched
(a `data` parameter would make Litestar parse it); the app-wide body size limit still
applies to that read (413).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import HeaderParameter

from application.payment_events import EventResult, PaymentEvents
from application.ports.errors import InvalidWebhook, ServiceUnavailable
from entrypoints.http.metrics import metrics_of
from entrypoints.http.openapi_responses import problems
from entrypoints.http.state import container_from_app

log = logging.getLogger(__name__)

SignatureHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Stripe-Signature",
        required=False,
        description='`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` (one `v1` '
        "per active signing secret). Missing, forged or older than the tolerance: 400.",
    ),
]


@dataclass
class _RawEventOperation(Operation):
    """The OpenAPI operation, with the body the handler reads raw described by hand."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="A Stripe `event` object as JSON, exactly as Stripe sent it: the "
            "signature covers these bytes, so nothing may parse and re-encode them first.",
            content={"application/json": OpenAPIMediaType(schema=Schema(type=OpenAPIType.OBJECT))},
        )


class WebhookReceipt(msgspec.Struct):
    """The event was verified and recorded; `result` says what it did."""

    received: bool
    result: EventResult


class WebhooksController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post(
        "/stripe",
        status_code=200,
        responses=problems(413, 503, rate_limited=False),
        summary="Receive a Stripe event",
        operation_class=_RawEventOperation,
    )
    async def receive_stripe_event(
        self,
        request: Request[Any, Any, Any],
        stripe_signature: SignatureHeader = None,
    ) -> WebhookReceipt:
        """Stripe only. The signature is checked over the raw body before anything else;
        a bad, stale or missing signature is 400 and changes nothing. Each event id is
        applied at most once: a repeated delivery is 200 with `result: duplicate`. 503
        when the database or the payment provider is down, so that Stripe retries."""
        body = await request.body()
        events: PaymentEvents = container_from_app(request.app).payment_events()
        metrics = metrics_of(request.app.state)
        try:
            result = await events.handle_webhook(body, stripe_signature)
        except InvalidWebhook as refused:
            # Worth a look: a wrong secret in the settings refuses every genuine event.
            log.warning("Stripe webhook refused: %s", refused)
            metrics.webhook("invalid")
            raise
        except ServiceUnavailable as error:
            # 503: the event was not recorded, and Stripe delivers it again.
            log.warning("Stripe webhook not recorded: %s", error)
            metrics.webhook("unavailable")
            raise
        metrics.webhook(result.value)
        return WebhookReceipt(received=True, result=result)
