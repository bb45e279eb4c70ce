"""The PaymentGateway port on Stripe's API, through the official SDK's async client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import stripe
from stripe.params import PaymentIntentCreateParams, RefundCreateParams, RefundListParams

from adapters.stripe_documents.events import event_from_body
from adapters.stripe_documents.intents import intent_from_stripe
from adapters.stripe_gateway.webhooks import verify_signature, webhook_secrets
from application.ports.errors import PaymentProviderError, ProviderKeyReused
from application.ports.payments import PaymentIntent, ProviderEvent, ProviderRefund
from domain.errors import InvalidValue
from domain.money import Money
from domain.payments import PaymentOutcome

PROVIDER = "stripe"
# Stripe's own default tolerance for a webhook's signature timestamp.
DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300
# Stripe answers in well under a second; a request handler must not hang for the SDK's 80.
DEFAULT_HTTP_TIMEOUT_SECONDS = 10.0
# Safe to retry: every call that can move money carries our idempotency key, and the SDK
# adds one of its own to any other POST it retries.
DEFAULT_MAX_NETWORK_RETRIES = 2
# The only values Stripe accepts for a refund's `reason` (localstripe accepts none).
_REFUND_REASON_CODES = ("duplicate", "fraudulent", "requested_by_customer")
# Stripe caps a metadata value at 500 characters.
_METADATA_VALUE_LIMIT = 500
# The refund's metadata entry that keeps our idempotency key, so that a refund whose
# answer was lost can be found again (Stripe does not show the key of a request).
IDEMPOTENCY_KEY_METADATA = "hexmart_idempotency_key"
# Refunds per page when listing an intent's refunds (Stripe's maximum).
_REFUNDS_PAGE_SIZE = 100


class StripePaymentGateway:
    """The `PaymentGateway` port on Stripe (`api_base` points it at a compatible server).

    - `create_intent`: a PaymentIntent for the amount (currency sent lower-case) with
      `metadata.order_id`, so its events lead back to the order. Only parameters that
      localstripe also accepts are sent: no description, automatic_payment_methods or
      return_url. The idempotency key goes to Stripe, which replays the first answer
      for 24 hours; the application must not rely on that alone (and localstripe
      ignores keys): it stores the intent id and never asks twice for one order.
    - `retrieve_intent`, `cancel_intent`: cancelling a cancelled intent returns it
      unchanged, cancelling a succeeded one is refused (refund it instead).
    - `refund`: checks first that the intent succeeded and that the currency matches,
      then refunds with the idempotency key; Stripe refuses a refund beyond what is
      left (localstripe does not). The key also goes to the refund's metadata
      (`hexmart_idempotency_key`), and so does the free-text reason (`reason`); Stripe's
      `reason` code (duplicate, fraudulent, requested_by_customer) is sent only if
      `refund_reason_code` is configured. Stripe's `idempotency_error` (the key was
      first used with other parameters) raises `ProviderKeyReused`.
    - `list_refunds`: every refund of the intent, all pages, keys read from metadata.
    - `parse_event`: see `webhooks.verify_signature`. `webhook_secret` may list several
      secrets ("whsec_new,whsec_old") while one is rotated.

    Every provider failure (unreachable, timeout, rate limit, 5xx, rejected key, refused
    request, reused idempotency key) raises `PaymentProviderError` with a message that
    never holds the API key.
    Call `aclose()` at shutdown.
    """

    def __init__(
        self,
        api_key: str,
        webhook_secret: str | Sequence[str],
        *,
        api_base: str | None = None,
        webhook_tolerance_seconds: int = DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
        http_timeout: float = DEFAULT_HTTP_TIMEOUT_SECONDS,
        max_network_retries: int = DEFAULT_MAX_NETWORK_RETRIES,
        refund_reason_code: str | None = None,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ValueError("a Stripe API key is required")
        if webhook_tolerance_seconds <= 0:
            # The SDK reads 0 as "do not check the age", which would allow replays.
            raise ValueError("the webhook tolerance must be a positive number of seconds")
        if http_timeout <= 0:
            raise ValueError("the HTTP timeout must be positive")
        if refund_reason_code not in (None, *_REFUND_REASON_CODES):
            raise ValueError(f"refund_reason_code must be one of {_REFUND_REASON_CODES}")
        self._webhook_secrets = webhook_secrets(webhook_secret)
        self._tolerance = webhook_tolerance_seconds
        self._refund_reason_code = refund_reason_code
        self._mode = "live" if api_key.strip().startswith(("sk_live_", "rk_live_")) else "test"
        self._http = stripe.HTTPXClient(timeout=http_timeout)
        self._client = stripe.StripeClient(
            api_key.strip(),
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            http_client=self._http,
            max_network_retries=max_network_retries,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={PROVIDER!r})"

    @property
    def provider(self) -> str:
        return PROVIDER

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.close_async()  # type: ignore[no-untyped-call]

    # -- the port ------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """ "live" or "test", from the API key's prefix (sk_live_/rk_live_, else test)."""
        return self._mode

    async def check(self) -> str:
        """One cheap authenticated call (list one payment intent): the key's mode, or
        PaymentProviderError (`hexmart check`)."""
        async with _provider_call("checking the API key"):
            await self._client.v1.payment_intents.list_async({"limit": 1})
        return self.mode

    async def create_intent(
        self, *, order_id: str, amount: Money, idempotency_key: str
    ) -> PaymentIntent:
        params: PaymentIntentCreateParams = {
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "metadata": {"order_id": order_id},
        }
        async with _provider_call(f"creating the payment intent for order {order_id}"):
            created = await self._client.v1.payment_intents.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        return _read_intent(created)

    async def retrieve_intent(self, intent_id: str) -> PaymentIntent:
        async with _provider_call(f"retrieving payment intent {intent_id}"):
            found = await self._client.v1.payment_intents.retrieve_async(intent_id)
        return _read_intent(found)

    async def cancel_intent(self, intent_id: str) -> PaymentIntent:
        try:
            async with _provider_call(f"cancelling payment intent {intent_id}"):
                cancelled = await self._client.v1.payment_intents.cancel_async(intent_id)
        except PaymentProviderError as refused:
            # Stripe refuses to cancel an intent that is no longer open; tell apart
            # "already cancelled" (fine: cancelling is idempotent) from the rest.
            current = await self.retrieve_intent(intent_id)
            if current.outcome is PaymentOutcome.CANCELLED:
                return current
            if current.outcome is PaymentOutcome.SUCCEEDED:
                raise PaymentProviderError(
                    f"payment intent {intent_id} has succeeded; refund it instead"
                ) from None
            raise refused
        return _read_intent(cancelled)

    async def refund(
        self, *, intent_id: str, amount: Money, idempotency_key: str, reason: str | None = None
    ) -> ProviderRefund:
        await self._check_refundable(intent_id, amount)
        metadata = {IDEMPOTENCY_KEY_METADATA: idempotency_key}
        if reason:
            metadata["reason"] = reason[:_METADATA_VALUE_LIMIT]
        params: RefundCreateParams = {
            "payment_intent": intent_id,
            "amount": amount.amount,
            "metadata": metadata,
        }
        if self._refund_reason_code:
            params["reason"] = self._refund_reason_code
        async with _provider_call(f"refunding {amount} of payment intent {intent_id}"):
            refund = await self._client.v1.refunds.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        return _read_refund(refund)

    async def list_refunds(self, intent_id: str) -> list[ProviderRefund]:
        params: RefundListParams = {"payment_intent": intent_id, "limit": _REFUNDS_PAGE_SIZE}
        async with _provider_call(f"listing the refunds of payment intent {intent_id}"):
            first_page = await self._client.v1.refunds.list_async(params)
            found = [refund async for refund in first_page.auto_paging_iter()]
        # Stripe lists newest first; the port promises oldest first.
        found.reverse()
        found.sort(key=lambda refund: int(getattr(refund, "created", None) or 0))
        return [_read_refund(refund) for refund in found]

    def parse_event(self, payload: bytes, signature_header: str | None) -> ProviderEvent:
        text = verify_signature(payload, signature_header, self._webhook_secrets, self._tolerance)
        return event_from_body(text)

    # -- internals -----------------------------------------------------------------

    async def _check_refundable(self, intent_id: str, amount: Money) -> None:
        """Stripe refunds `amount` minor units in the charge's own currency, whatever we
        meant: a refund in another currency must be stopped here. How much is left is
        not checked here but by Stripe, atomically: checking it first would turn the
        retry of a refund whose answer was lost (same key, nothing left) into an error
        instead of Stripe's replay of that refund."""
        paid = await self.retrieve_intent(intent_id)
        if paid.outcome is not PaymentOutcome.SUCCEEDED:
            raise PaymentProviderError(
                f"payment intent {intent_id} has not succeeded; nothing to refund"
            )
        if amount.currency != paid.amount.currency or not amount.is_positive:
            raise PaymentProviderError(f"cannot refund {amount} of a {paid.amount} payment")


def _read_refund(refund: stripe.Refund) -> ProviderRefund:
    document = refund.to_dict()
    try:
        refunded = Money(document["amount"], str(document["currency"]).upper())
        refund_id = document["id"]
    except (KeyError, TypeError, ValueError, InvalidValue) as exc:
        raise PaymentProviderError(f"unexpected refund from the provider: {exc}") from None
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    key, reason = metadata.get(IDEMPOTENCY_KEY_METADATA), metadata.get("reason")
    return ProviderRefund(
        id=str(refund_id),
        amount=refunded,
        failed=document.get("status") in ("failed", "canceled"),
        idempotency_key=key if isinstance(key, str) else None,
        reason=reason if isinstance(reason, str) else None,
    )


def _read_intent(found: stripe.PaymentIntent) -> PaymentIntent:
    try:
        return intent_from_stripe(found.to_dict())
    except (KeyError, TypeError, ValueError, InvalidValue) as exc:
        raise PaymentProviderError(f"unexpected payment intent from the provider: {exc}") from None


@asynccontextmanager
async def _provider_call(doing: str) -> AsyncIterator[None]:
    """Turn the SDK's errors into PaymentProviderError, saying what we were doing.

    Messages are built from the error's kind, HTTP status, code and Stripe's own text,
    except for a rejected or under-privileged key, whose text from Stripe quotes part of
    the key.
    """
    try:
        yield
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        raise PaymentProviderError(
            f"the payment provider rejected our API key while {doing} "
            f"(HTTP {exc.http_status}); check HEXMART_STRIPE_API_KEY"
        ) from None
    except stripe.APIConnectionError as exc:
        cause = type(exc.__cause__).__name__ if exc.__cause__ else "network error"
        raise PaymentProviderError(
            f"could not reach the payment provider while {doing} ({cause})"
        ) from None
    except stripe.RateLimitError:
        raise PaymentProviderError(
            f"the payment provider is rate limiting us; failed while {doing}"
        ) from None
    except stripe.IdempotencyError as exc:
        raise ProviderKeyReused(
            f"the payment provider refused {doing}: its idempotency key was first used "
            f"with other parameters (HTTP {exc.http_status})"
        ) from None
    except stripe.StripeError as exc:
        details = ", ".join(
            part
            for part in (
                f"HTTP {exc.http_status}" if exc.http_status else "",
                f"code {exc.code}" if exc.code else "",
                f"request {exc.request_id}" if exc.request_id else "",
            )
            if part
        )
        reason = exc.user_message or type(exc).__name__
        raise PaymentProviderError(
            f"the payment provider refused {doing}: {reason} ({details or type(exc).__name__})"
        ) from None
