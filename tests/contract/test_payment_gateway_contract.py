from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.fakes.payment_gateway import FakePaymentGateway
from adapters.sql.engine import create_engine
from adapters.sql.local_payment_gateway import (
    DELIVERY_RETRY,
    EventSink,
    SqlLocalPaymentGateway,
    local_payments_database_url,
)
from application.ports.errors import InvalidWebhook, PaymentProviderError, ServiceUnavailable
from application.ports.payments import PaymentGateway, PaymentIntent, ProviderEvent
from domain.money import Money
from domain.payments import PaymentOutcome
from tests.contract.payment_gateway_contract import (
    TOTAL,
    PaymentGatewayContract,
    PaymentGatewayOutageContract,
    PaymentWebhookContract,
)

DELAY = timedelta(seconds=5)
RETENTION = timedelta(days=90)


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


class LocalPaymentGatewayOnADatabase(PaymentGatewayContract):
    """The local gateway keeps its intents in a database: it cannot be down (a storage
    failure is a provider error), it receives no webhooks, and every gateway on the same
    database (another app process, the worker) sees, completes and refunds every intent.
    Subclasses give `database` a URL."""

    @pytest.fixture
    def database(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    async def engines(self, database: str) -> AsyncIterator[list[AsyncEngine]]:
        made: list[AsyncEngine] = []
        yield made
        for gateway in self.gateways:
            await gateway.close()
        for engine in made:
            await engine.dispose()

    @pytest.fixture
    def gateway(self, _set_up_time: None, database: str, engines: list[AsyncEngine]) -> Any:
        self.database_url = database
        self.engines = engines
        self.gateways: list[SqlLocalPaymentGateway] = []
        return self.make_gateway()

    def make_gateway(self) -> PaymentGateway:
        return self.another_process(auto_complete=False)

    def another_process(
        self, *, auto_complete: bool = True, sink: EventSink | None = None
    ) -> SqlLocalPaymentGateway:
        """A gateway on the same database, as another app process would have it."""
        engine = create_engine(self.database_url)
        self.engines.append(engine)
        gateway = SqlLocalPaymentGateway(
            engine, self.clock, auto_complete=auto_complete, completion_delay=DELAY
        )
        if sink is not None:
            gateway.subscribe(sink)
        self.gateways.append(gateway)
        return gateway

    async def customer_pays(self, gateway: PaymentGateway, intent: PaymentIntent) -> None:
        assert isinstance(gateway, SqlLocalPaymentGateway)
        await gateway.complete(intent.id)

    async def test_every_webhook_is_refused(self, gateway: PaymentGateway) -> None:
        intent = await self.new_intent(gateway)
        await self.customer_pays(gateway, intent)
        body = b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {}}'
        with pytest.raises(InvalidWebhook):
            gateway.parse_event(body, "t=1,v1=00")

    async def test_an_intent_succeeds_by_itself_once_its_delay_has_passed(
        self, gateway: PaymentGateway
    ) -> None:
        paying = self.another_process()
        intent = await self.new_intent(paying)

        await self.time.let_almost_pass(DELAY.total_seconds())
        assert (await gateway.retrieve_intent(intent.id)).outcome is PaymentOutcome.PENDING

        async def succeeded() -> bool:
            outcome = (await gateway.retrieve_intent(intent.id)).outcome
            return outcome is PaymentOutcome.SUCCEEDED

        assert await self.time.holds_after(DELAY.total_seconds(), succeeded)

    async def test_an_intent_made_by_one_process_is_retried_completed_and_refunded_by_another(
        self, gateway: PaymentGateway
    ) -> None:
        first, second = self.another_process(auto_complete=False), self.another_process()
        intent = await self.new_intent(first)

        assert await self.new_intent(second) == intent  # the same key, the same intent
        assert await second.retrieve_intent(intent.id) == intent
        await second.complete(intent.id)
        refund = await second.refund(intent_id=intent.id, amount=TOTAL, idempotency_key="r1")

        assert (await first.retrieve_intent(intent.id)).outcome is PaymentOutcome.SUCCEEDED
        assert await first.list_refunds(intent.id) == [refund]
        with pytest.raises(PaymentProviderError):  # nothing left, whoever is asked
            await first.refund(intent_id=intent.id, amount=Money(1, "EUR"), idempotency_key="r2")

    async def test_processes_racing_with_one_key_make_one_intent(
        self, gateway: PaymentGateway
    ) -> None:
        racers = [self.another_process(auto_complete=False) for _ in range(4)]
        made = await asyncio.gather(*(self.new_intent(racer) for racer in racers))
        assert len({intent.id for intent in made}) == 1

    async def test_a_payment_whose_process_died_is_delivered_once_by_another(
        self, gateway: PaymentGateway
    ) -> None:
        died = self.another_process()  # subscribed to nothing: it never tells the shop
        intent = await self.new_intent(died)
        told: list[ProviderEvent] = []

        async def shop(event: ProviderEvent) -> None:
            told.append(event)

        survivors = [self.another_process(sink=shop) for _ in range(2)]
        assert await survivors[0].deliver_due() == 0  # not yet paid
        self.clock.advance(DELAY)

        delivered = [await survivor.deliver_due() for survivor in survivors * 2]

        assert delivered == [1, 0, 0, 0]
        [event] = told
        assert (event.id, event.type) == (f"evt_local_{intent.id}", "payment_intent.succeeded")
        assert event.intent is not None
        assert (event.intent.id, event.intent.outcome) == (intent.id, PaymentOutcome.SUCCEEDED)
        assert event.intent.order_id == "order-1"

    async def test_a_delivery_that_failed_is_made_again_later(
        self, gateway: PaymentGateway
    ) -> None:
        told: list[str] = []

        async def shop_down(event: ProviderEvent) -> None:
            raise ServiceUnavailable("the shop's database is down")

        async def shop(event: ProviderEvent) -> None:
            told.append(event.id)

        intent = await self.new_intent(self.another_process())
        self.clock.advance(DELAY)
        assert await self.another_process(sink=shop_down).deliver_due() == 0
        retrying = self.another_process(sink=shop)
        assert await retrying.deliver_due() == 0  # the failed attempt still holds it

        self.clock.advance(DELIVERY_RETRY)

        assert await retrying.deliver_due() == 1
        assert told == [f"evt_local_{intent.id}"]

    async def test_an_intent_whose_time_has_come_cannot_be_cancelled(
        self, gateway: PaymentGateway
    ) -> None:
        intent = await self.new_intent(self.another_process())
        self.clock.advance(DELAY)
        with pytest.raises(PaymentProviderError):
            await gateway.cancel_intent(intent.id)
        assert (await gateway.retrieve_intent(intent.id)).outcome is PaymentOutcome.SUCCEEDED

    async def test_a_cancelled_intent_cannot_be_completed(self, gateway: PaymentGateway) -> None:
        paying = self.another_process()
        intent = await self.new_intent(paying)
        await gateway.cancel_intent(intent.id)
        self.clock.advance(DELAY)
        with pytest.raises(PaymentProviderError):
            await paying.complete(intent.id)
        assert await paying.deliver_due() == 0
        assert (await gateway.retrieve_intent(intent.id)).outcome is PaymentOutcome.CANCELLED

    async def test_final_intents_are_forgotten_after_the_retention_with_their_refunds(
        self, gateway: PaymentGateway
    ) -> None:
        told = self.another_process(auto_complete=False, sink=self.shop_told)
        paid = await self.paid_intent(told)
        await told.refund(intent_id=paid.id, amount=Money(1_00, "EUR"), idempotency_key="r1")
        cancelled = await self.new_intent(told, "order-2")
        await told.cancel_intent(cancelled.id)
        waiting = await self.new_intent(told, "order-3")  # never completed
        undelivered = await self.new_intent(self.another_process(), "order-4")
        self.clock.advance(RETENTION)
        recent = await self.paid_intent_for(told, "order-5")
        self.clock.advance(timedelta(seconds=1))

        assert await told.purge(RETENTION) == 2

        for gone in (paid, cancelled):
            with pytest.raises(PaymentProviderError):
                await gateway.retrieve_intent(gone.id)
        for kept in (waiting, undelivered, recent):
            assert (await gateway.retrieve_intent(kept.id)).id == kept.id
        # Its refund went with it: the key is free again, as Stripe frees keys after a day.
        await told.refund(intent_id=recent.id, amount=Money(1_00, "EUR"), idempotency_key="r1")
        assert await told.purge(RETENTION) == 0

    async def test_a_refund_made_recently_keeps_its_intent(self, gateway: PaymentGateway) -> None:
        told = self.another_process(auto_complete=False, sink=self.shop_told)
        paid = await self.paid_intent(told)
        self.clock.advance(RETENTION)
        await told.refund(intent_id=paid.id, amount=Money(1_00, "EUR"), idempotency_key="r1")
        self.clock.advance(timedelta(seconds=1))
        assert await told.purge(RETENTION) == 0
        assert len(await told.list_refunds(paid.id)) == 1

    @staticmethod
    async def shop_told(event: ProviderEvent) -> None:
        """A shop that takes every event."""

    async def paid_intent_for(self, gateway: PaymentGateway, order_id: str) -> PaymentIntent:
        intent = await self.new_intent(gateway, order_id)
        await self.customer_pays(gateway, intent)
        return intent


class TestLocalPaymentGatewayOnSqlite(LocalPaymentGatewayOnADatabase):
    """The embedded default: a SQLite file of the gateway's own beside the shop's."""

    @pytest.fixture
    def database(self, tmp_path: Path) -> str:
        return local_payments_database_url(f"sqlite+aiosqlite:///{tmp_path / 'hexmart.db'}")

    def test_its_file_lies_beside_the_shop_s(self, tmp_path: Path) -> None:
        shop = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
        assert local_payments_database_url(shop) == (
            f"sqlite+aiosqlite:///{tmp_path / 'shop.local-payments.db'}"
        )


class TestLocalPaymentGatewayOnSqliteWithoutReturning(TestLocalPaymentGatewayOnSqlite):
    """SQLite before 3.35 has no RETURNING: the gateway reads back what it wrote."""

    def another_process(
        self, *, auto_complete: bool = True, sink: EventSink | None = None
    ) -> SqlLocalPaymentGateway:
        gateway = super().another_process(auto_complete=auto_complete, sink=sink)
        dialect = self.engines[-1].dialect
        dialect.insert_returning = dialect.update_returning = False
        return gateway


@pytest.mark.integration
class TestLocalPaymentGatewayOnPostgres(LocalPaymentGatewayOnADatabase):
    """In the shop's own PostgreSQL database (tables made by the migrations)."""

    @pytest.fixture
    def database(self, clean_postgres_url: str) -> str:
        assert local_payments_database_url(clean_postgres_url) == clean_postgres_url
        return clean_postgres_url
