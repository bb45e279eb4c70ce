"""The PaymentGateway contract: idempotent intents and refunds, refunds listed with their
keys, cancellation; and, for the gateways that have them, outages and webhooks.

Each capability is a contract of its own, so a test class inherits exactly what its
adapter can do and a test that does not apply is never collected (never skipped).
"""

from __future__ import annotations

import abc
from datetime import timedelta

import pytest

from application.ports.errors import InvalidWebhook, PaymentProviderError, ProviderKeyReused
from application.ports.payments import PaymentGateway, PaymentIntent, ProviderRefund
from domain.money import Money
from domain.payments import PaymentOutcome
from tests.contract.time_control import TimedContract

TOTAL = Money(12_50, "EUR")


class PaymentGatewayContract(TimedContract, abc.ABC):
    """What every gateway does. Subclass with `make_gateway` and `customer_pays` (use
    `self.clock` if the gateway takes one); a gateway that can be down subclasses
    `PaymentGatewayOutageContract` too, one that receives webhooks `PaymentWebhookContract`.
    """

    @abc.abstractmethod
    def make_gateway(self) -> PaymentGateway: ...

    @abc.abstractmethod
    async def customer_pays(self, gateway: PaymentGateway, intent: PaymentIntent) -> None:
        """Complete the intent as the customer's browser would (a test card, ...)."""

    @pytest.fixture
    def gateway(self, _set_up_time: None) -> PaymentGateway:
        return self.make_gateway()

    async def new_intent(
        self, gateway: PaymentGateway, order_id: str = "order-1", amount: Money = TOTAL
    ) -> PaymentIntent:
        return await gateway.create_intent(
            order_id=order_id, amount=amount, idempotency_key=f"order:{order_id}"
        )

    async def paid_intent(self, gateway: PaymentGateway) -> PaymentIntent:
        intent = await self.new_intent(gateway)
        await self.customer_pays(gateway, intent)
        return intent

    # -- intents -------------------------------------------------------------------

    def test_the_gateway_names_its_provider(self, gateway: PaymentGateway) -> None:
        assert isinstance(gateway.provider, str)
        assert gateway.provider

    async def test_a_new_intent_is_pending_for_the_order_s_total(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.new_intent(gateway)
        assert intent.id
        assert intent.client_secret
        assert intent.amount == TOTAL
        assert intent.outcome is PaymentOutcome.PENDING
        assert intent.order_id == "order-1"

    async def test_an_intent_can_be_retrieved(self, gateway: PaymentGateway) -> None:
        intent = await self.new_intent(gateway)
        assert await gateway.retrieve_intent(intent.id) == intent

    async def test_retrying_with_the_same_key_returns_the_same_intent(
        self, gateway: PaymentGateway
    ) -> None:
        first = await self.new_intent(gateway)
        again = await self.new_intent(gateway)
        assert again.id == first.id

    async def test_a_different_key_makes_a_different_intent(self, gateway: PaymentGateway) -> None:
        first = await self.new_intent(gateway, "order-1")
        second = await self.new_intent(gateway, "order-2")
        assert first.id != second.id

    async def test_reusing_a_key_for_another_amount_is_refused(
        self, gateway: PaymentGateway
    ) -> None:
        await self.new_intent(gateway, amount=TOTAL)
        with pytest.raises(ProviderKeyReused):
            await self.new_intent(gateway, amount=TOTAL + Money(1, "EUR"))

    async def test_an_unknown_intent_is_a_provider_error(self, gateway: PaymentGateway) -> None:
        with pytest.raises(PaymentProviderError):
            await gateway.retrieve_intent("pi_does_not_exist")

    async def test_a_paid_intent_has_succeeded(self, gateway: PaymentGateway) -> None:
        intent = await self.paid_intent(gateway)
        assert (await gateway.retrieve_intent(intent.id)).outcome is PaymentOutcome.SUCCEEDED

    async def test_cancelling_a_pending_intent_cancels_it_and_is_idempotent(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.new_intent(gateway)
        assert (await gateway.cancel_intent(intent.id)).outcome is PaymentOutcome.CANCELLED
        assert (await gateway.cancel_intent(intent.id)).outcome is PaymentOutcome.CANCELLED
        assert (await gateway.retrieve_intent(intent.id)).outcome is PaymentOutcome.CANCELLED

    async def test_a_succeeded_intent_cannot_be_cancelled(self, gateway: PaymentGateway) -> None:
        intent = await self.paid_intent(gateway)
        try:
            after = await gateway.cancel_intent(intent.id)
        except PaymentProviderError:
            after = await gateway.retrieve_intent(intent.id)
        assert after.outcome is PaymentOutcome.SUCCEEDED

    # -- refunds -------------------------------------------------------------------

    async def test_partial_refunds_may_add_up_to_the_captured_amount(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.paid_intent(gateway)
        first = await gateway.refund(
            intent_id=intent.id, amount=Money(10_00, "EUR"), idempotency_key="refund:1"
        )
        rest = await gateway.refund(
            intent_id=intent.id, amount=Money(2_50, "EUR"), idempotency_key="refund:2"
        )
        assert not first.failed
        assert not rest.failed
        assert (first.amount, rest.amount) == (Money(10_00, "EUR"), Money(2_50, "EUR"))
        assert first.id != rest.id

    async def test_refunding_more_than_was_captured_is_refused(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.paid_intent(gateway)
        await gateway.refund(intent_id=intent.id, amount=Money(10_00, "EUR"), idempotency_key="r1")
        with pytest.raises(PaymentProviderError):
            await gateway.refund(
                intent_id=intent.id, amount=Money(2_51, "EUR"), idempotency_key="r2"
            )

    async def test_retrying_a_refund_with_its_key_refunds_once(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.paid_intent(gateway)
        first = await gateway.refund(intent_id=intent.id, amount=TOTAL, idempotency_key="r1")
        again = await gateway.refund(intent_id=intent.id, amount=TOTAL, idempotency_key="r1")
        assert again.id == first.id
        with pytest.raises(PaymentProviderError):  # nothing is left to refund
            await gateway.refund(intent_id=intent.id, amount=Money(1, "EUR"), idempotency_key="r2")

    async def test_reusing_a_refund_key_for_another_amount_is_refused(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.paid_intent(gateway)
        await gateway.refund(intent_id=intent.id, amount=Money(5_00, "EUR"), idempotency_key="r1")
        with pytest.raises(ProviderKeyReused):
            await gateway.refund(
                intent_id=intent.id, amount=Money(6_00, "EUR"), idempotency_key="r1"
            )

    async def test_a_refund_carries_its_idempotency_key_and_reason(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.paid_intent(gateway)
        refund = await gateway.refund(
            intent_id=intent.id,
            amount=Money(5_00, "EUR"),
            idempotency_key="refund:order-1:1",
            reason="scratched",
        )
        assert (refund.idempotency_key, refund.reason) == ("refund:order-1:1", "scratched")

    async def test_every_refund_of_an_intent_is_listed_with_its_key(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.paid_intent(gateway)
        other = await self.new_intent(gateway, "order-2")
        await self.customer_pays(gateway, other)
        assert await gateway.list_refunds(intent.id) == []
        made = [
            await gateway.refund(
                intent_id=intent.id,
                amount=Money(10_00, "EUR"),
                idempotency_key="refund:order-1:1",
                reason="scratched",
            ),
            await gateway.refund(
                intent_id=intent.id, amount=Money(2_00, "EUR"), idempotency_key="refund:order-1:2"
            ),
        ]
        await gateway.refund(
            intent_id=other.id, amount=Money(1_00, "EUR"), idempotency_key="refund:order-2:1"
        )

        listed = await gateway.list_refunds(intent.id)

        def facts(refunds: list[ProviderRefund]) -> set[tuple[object, ...]]:
            # In no particular order (Stripe lists the newest first).
            return {(r.id, r.amount, r.idempotency_key, r.reason) for r in refunds}

        assert len(listed) == 2
        assert (
            facts(listed)
            == facts(made)
            == {
                (made[0].id, Money(10_00, "EUR"), "refund:order-1:1", "scratched"),
                (made[1].id, Money(2_00, "EUR"), "refund:order-1:2", None),
            }
        )

    async def test_the_refund_a_reused_key_was_first_used_for_is_listed(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.paid_intent(gateway)
        first = await gateway.refund(
            intent_id=intent.id, amount=Money(5_00, "EUR"), idempotency_key="refund:order-1:1"
        )
        with pytest.raises(ProviderKeyReused):
            await gateway.refund(
                intent_id=intent.id, amount=TOTAL, idempotency_key="refund:order-1:1"
            )

        [found] = [
            refund
            for refund in await gateway.list_refunds(intent.id)
            if refund.idempotency_key == "refund:order-1:1"
        ]
        assert (found.id, found.amount) == (first.id, Money(5_00, "EUR"))

    async def test_an_unpaid_intent_cannot_be_refunded(self, gateway: PaymentGateway) -> None:
        intent = await self.new_intent(gateway)
        with pytest.raises(PaymentProviderError):
            await gateway.refund(intent_id=intent.id, amount=TOTAL, idempotency_key="r1")


class PaymentGatewayOutageContract(PaymentGatewayContract):
    """For a gateway whose provider can be out of reach (a remote API, a fake told to go
    down)."""

    @abc.abstractmethod
    def make_unreachable_gateway(self) -> PaymentGateway:
        """A gateway whose provider cannot be reached."""

    async def test_every_call_to_an_unreachable_provider_is_a_provider_error(self) -> None:
        gateway = self.make_unreachable_gateway()
        with pytest.raises(PaymentProviderError):
            await self.new_intent(gateway)
        with pytest.raises(PaymentProviderError):
            await gateway.retrieve_intent("pi_1")
        with pytest.raises(PaymentProviderError):
            await gateway.cancel_intent("pi_1")
        with pytest.raises(PaymentProviderError):
            await gateway.refund(intent_id="pi_1", amount=TOTAL, idempotency_key="r1")
        with pytest.raises(PaymentProviderError):
            await gateway.list_refunds("pi_1")


class PaymentWebhookContract(PaymentGatewayContract):
    """For a gateway that receives the provider's signed webhooks."""

    @abc.abstractmethod
    def webhook_body(
        self, gateway: PaymentGateway, *, event_id: str, event_type: str, intent: PaymentIntent
    ) -> bytes:
        """The body the provider would POST for this event (`event_type` as Stripe names
        it)."""

    @abc.abstractmethod
    def sign_webhook(
        self, gateway: PaymentGateway, body: bytes, *, age: timedelta = timedelta(0)
    ) -> str:
        """The signature header the provider would send with `body`, signed `age` ago."""

    def webhook(
        self, gateway: PaymentGateway, event_type: str, intent: PaymentIntent
    ) -> tuple[bytes, str]:
        body = self.webhook_body(
            gateway, event_id="evt_contract_1", event_type=event_type, intent=intent
        )
        return body, self.sign_webhook(gateway, body)

    async def test_a_signed_success_webhook_parses_to_the_intent_s_event(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.paid_intent(gateway)
        payload, header = self.webhook(gateway, "payment_intent.succeeded", intent)
        event = gateway.parse_event(payload, header)
        assert event.id == "evt_contract_1"
        assert event.type == "payment_intent.succeeded"
        assert event.created_at.tzinfo is not None
        assert event.intent is not None
        assert (event.intent.id, event.intent.amount) == (intent.id, TOTAL)
        assert event.intent.outcome is PaymentOutcome.SUCCEEDED
        assert event.intent.order_id == "order-1"

    async def test_a_signed_failure_webhook_reports_the_failure(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.new_intent(gateway)
        payload, header = self.webhook(gateway, "payment_intent.payment_failed", intent)
        event = gateway.parse_event(payload, header)
        assert event.intent is not None
        assert event.intent.outcome is PaymentOutcome.FAILED

    async def test_a_webhook_of_a_type_we_do_not_act_on_carries_no_intent(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.new_intent(gateway)
        payload, header = self.webhook(gateway, "customer.created", intent)
        assert gateway.parse_event(payload, header).intent is None

    async def test_a_webhook_whose_body_was_changed_is_refused(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.new_intent(gateway)
        payload, header = self.webhook(gateway, "payment_intent.payment_failed", intent)
        forged = payload.replace(b"payment_intent.payment_failed", b"payment_intent.succeeded")
        assert forged != payload
        with pytest.raises(InvalidWebhook):
            gateway.parse_event(forged, header)

    @pytest.mark.parametrize("header", [None, "", "garbage", "t=1,v1=00", "v1=abc"])
    async def test_a_webhook_without_a_valid_signature_header_is_refused(
        self, gateway: PaymentGateway, header: str | None
    ) -> None:
        intent = await self.new_intent(gateway)
        payload, _ = self.webhook(gateway, "payment_intent.succeeded", intent)
        with pytest.raises(InvalidWebhook):
            gateway.parse_event(payload, header)

    async def test_a_webhook_signed_long_ago_is_refused_as_a_replay(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.new_intent(gateway)
        payload, _ = self.webhook(gateway, "payment_intent.succeeded", intent)
        stale = self.sign_webhook(gateway, payload, age=timedelta(hours=1))
        with pytest.raises(InvalidWebhook):
            gateway.parse_event(payload, stale)

    @pytest.mark.parametrize(
        "body", [b"", b"not json", b"[]", b'{"id": 1}', b'{"id": "evt_1", "type": "x"}']
    )
    async def test_a_signed_body_that_is_not_an_event_is_refused(
        self, gateway: PaymentGateway, body: bytes
    ) -> None:
        with pytest.raises(InvalidWebhook):
            gateway.parse_event(body, self.sign_webhook(gateway, body))
