from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.local.payment_gateway import LocalPaymentGateway
from adapters.memory.payment_gateway import FakePaymentGateway
from application.ports.payments import PaymentGateway, PaymentIntent, ProviderEvent
from domain.errors import InvalidWebhook
from tests.contract.payment_gateway_contract import (
    PaymentGatewayContract,
    PaymentGatewayOutageContract,
    PaymentWebhookContract,
)


class TestFakePaymentGateway(PaymentGatewayOutageContract, PaymentWebhookContract):
    def make_gateway(self) -> PaymentGateway:
        return FakePaymentGateway(self.clock)

    async def customer_pays(self, gateway: PaymentGateway, intent: PaymentIntent) -> None:
        assert isinstance(gateway, FakePaymentGateway)
        gateway.succeed(intent.id)

    def make_unreachable_gateway(self) -> PaymentGateway:
        gateway = FakePaymentGateway(self.clock)
        gateway.go_down()
        return gateway

    def webhook_body(
        self, gateway: PaymentGateway, *, event_id: str, event_type: str, intent: PaymentIntent
    ) -> bytes:
        assert isinstance(gateway, FakePaymentGateway)
        event = ProviderEvent(event_id, event_type, self.clock.now(), intent)
        return gateway.event_payload(event)

    def sign_webhook(
        self, gateway: PaymentGateway, body: bytes, *, age: timedelta = timedelta(0)
    ) -> str:
        assert isinstance(gateway, FakePaymentGateway)
        return gateway.sign(body, at=self.clock.now() - age)


class TestLocalPaymentGateway(PaymentGatewayContract):
    """In-process and in memory, it cannot be down, and it receives no webhooks."""

    def make_gateway(self) -> PaymentGateway:
        return LocalPaymentGateway(self.clock, auto_complete=False)

    async def customer_pays(self, gateway: PaymentGateway, intent: PaymentIntent) -> None:
        assert isinstance(gateway, LocalPaymentGateway)
        await gateway.complete(intent.id)

    async def test_every_webhook_is_refused(self, gateway: PaymentGateway) -> None:
        intent = await self.new_intent(gateway)
        await self.customer_pays(gateway, intent)
        body = b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {}}'
        with pytest.raises(InvalidWebhook):
            gateway.parse_event(body, "t=1,v1=00")
