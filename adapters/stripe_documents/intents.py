"""Stripe's PaymentIntent JSON, as the API and webhooks send it: read into our terms, and
written from them (what the in-memory double sends)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.ports.payments import PaymentIntent
from domain.money import Money
from domain.payments import PaymentOutcome


def outcome_of(status: str, last_payment_error: object) -> PaymentOutcome:
    """What an intent's `status` means for the order.

    After a declined attempt Stripe puts the intent back to `requires_payment_method`
    with `last_payment_error` set; the customer may still retry with another card, so a
    FAILED payment can later succeed (the domain allows that move).
    `requires_confirmation`, `requires_action`, `processing` and `requires_capture` (only
    with manual capture, which we never ask for) are PENDING.
    """
    if status == "succeeded":
        return PaymentOutcome.SUCCEEDED
    if status == "canceled":
        return PaymentOutcome.CANCELLED
    if status == "requires_payment_method":
        return PaymentOutcome.FAILED if last_payment_error else PaymentOutcome.PENDING
    # The listed statuses, and any Stripe may add later: PENDING never moves a payment.
    return PaymentOutcome.PENDING


def intent_from_stripe(document: Any) -> PaymentIntent:
    """Read a PaymentIntent object (a dict: `to_dict()` of an SDK object, or the
    `data.object` of a webhook event). Raises KeyError, TypeError, ValueError or
    InvalidValue (a bad amount or currency) if it is not one."""
    if not isinstance(document, Mapping) or document.get("object") != "payment_intent":
        raise ValueError("expected a payment_intent object")
    intent_id, amount, currency = document["id"], document["amount"], document["currency"]
    if not isinstance(intent_id, str) or not intent_id:
        raise TypeError("payment intent id must be a non-empty string")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("payment intent amount must be an integer")
    if not isinstance(currency, str):
        raise TypeError("payment intent currency must be a string")
    status = document["status"]
    if not isinstance(status, str):
        raise TypeError("payment intent status must be a string")
    client_secret = document.get("client_secret")
    metadata = document.get("metadata") or {}
    order_id = metadata.get("order_id") if isinstance(metadata, Mapping) else None
    return PaymentIntent(
        id=intent_id,
        client_secret=client_secret if isinstance(client_secret, str) else None,
        amount=Money(amount, currency.upper()),
        outcome=outcome_of(status, document.get("last_payment_error")),
        order_id=order_id if isinstance(order_id, str) and order_id else None,
    )


# The status Stripe shows for each outcome: a declined intent goes back to needing a
# payment method, with `last_payment_error` set (see `outcome_of`).
_STATUS_OF_OUTCOME = {
    PaymentOutcome.PENDING: "requires_payment_method",
    PaymentOutcome.FAILED: "requires_payment_method",
    PaymentOutcome.SUCCEEDED: "succeeded",
    PaymentOutcome.CANCELLED: "canceled",
}


def intent_to_stripe(intent: PaymentIntent, *, outcome: PaymentOutcome) -> dict[str, Any]:
    """The PaymentIntent document for `intent` in the state `outcome`, which
    `intent_from_stripe` reads back to `intent` with that outcome."""
    document: dict[str, Any] = {
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount.amount,
        "currency": intent.amount.currency.lower(),
        "status": _STATUS_OF_OUTCOME[outcome],
        "client_secret": intent.client_secret,
        "metadata": {"order_id": intent.order_id},
    }
    if outcome is PaymentOutcome.FAILED:
        document["last_payment_error"] = {"code": "card_declined"}
    return document
