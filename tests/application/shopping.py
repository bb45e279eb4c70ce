"""Helpers for driving the shop through its use cases, shared by the use-case tests.

Everything here goes through `entrypoints.testing.in_memory_container()`: the same use
cases the HTTP layer and the CLI call, over in-memory adapters the test can steer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import unquote

from adapters.fakes.mailer import InMemoryMailer
from adapters.fakes.payment_gateway import FakePaymentGateway
from adapters.fakes.task_queue import RecordingTaskQueue
from adapters.system.clock import FixedClock
from application.auth import TokenPair
from application.orders import PlacedOrder
from application.payment_events import EventResult
from application.ports.messaging import EmailMessage
from application.ports.persistence import OrderQuery, OutboxMessage, Page, PageRequest
from application.principal import Principal
from domain.catalog import Product
from domain.orders import Order, OrderStatus
from domain.values import Address
from entrypoints.container import Container

T = TypeVar("T")

PASSWORD = "correct horse battery"
PAYMENT_TIMEOUT = timedelta(minutes=30)
RECONCILE_AFTER = timedelta(minutes=5)


ProductFactory = Callable[..., Awaitable[Product]]
CartFiller = Callable[..., Awaitable[None]]
OrderPlacer = Callable[..., Awaitable[PlacedOrder]]
KeyIssuer = Callable[..., Awaitable[Principal]]


@dataclass(frozen=True)
class Account:
    """A signed-up user as the tests see them: who they are and the tokens they hold."""

    principal: Principal
    email: str
    password: str
    tokens: TokenPair

    @property
    def id(self) -> str:
        assert self.principal.user_id is not None
        return self.principal.user_id


def an_address(name: str = "Ann Archer", city: str = "Springfield") -> Address:
    return Address(name=name, line1="1 Main St", city=city, postal_code="12345", country="US")


def gateway(shop: Container) -> FakePaymentGateway:
    fake = shop.payment_gateway()
    assert isinstance(fake, FakePaymentGateway)
    return fake


def clock(shop: Container) -> FixedClock:
    fixed = shop.clock()
    assert isinstance(fixed, FixedClock)
    return fixed


def mailer(shop: Container) -> InMemoryMailer:
    fake = shop.mailer()
    assert isinstance(fake, InMemoryMailer)
    return fake


def task_queue(shop: Container) -> RecordingTaskQueue:
    fake = shop.task_queue()
    assert isinstance(fake, RecordingTaskQueue)
    return fake


async def sign_in(shop: Container, email: str, password: str = PASSWORD) -> Account:
    tokens = await shop.authentication().login(email=email, password=password)
    principal = await shop.authentication().authenticate_access_token(tokens.access_token)
    return Account(principal=principal, email=email, password=password, tokens=tokens)


async def pay(shop: Container, placed: PlacedOrder) -> EventResult:
    """The customer pays at the provider and its webhook event arrives."""
    assert placed.payment.intent_id is not None
    event = gateway(shop).succeed(placed.payment.intent_id)
    return await shop.payment_events().apply_event(event)


async def every_page(fetch: Callable[[PageRequest], Awaitable[Page[T]]], limit: int = 2) -> list[T]:
    """Walk a keyset-paginated listing to its end, `limit` items at a time."""
    items: list[T] = []
    cursor: str | None = None
    for _ in range(1000):
        page = await fetch(PageRequest(limit=limit, cursor=cursor))
        assert len(page.items) <= limit
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor
    raise AssertionError("the listing never ended")


async def all_orders(
    shop: Container, who: Account, status: OrderStatus | None = None
) -> list[Order]:
    """Every order `who` may list (of one status if given), walking every page."""
    return await every_page(
        lambda page: shop.orders().list_orders(who.principal, OrderQuery(status=status, page=page))
    )


async def unsent_outbox(shop: Container) -> list[OutboxMessage]:
    async with shop.unit_of_work()() as uow:
        return await uow.outbox.list_unsent(1000)


async def outbox_events(shop: Container, name: str) -> list[dict[str, Any]]:
    """Payloads of the still-unsent outbox messages called `name`, oldest first."""
    return [m.payload for m in await unsent_outbox(shop) if m.name == name]


def reset_token_in(message: EmailMessage) -> str:
    """The one-time token in a password-reset email's link (`...#token=<token>`, or the
    configured page's own parameter)."""
    found = re.search(r"https?://\S*[#?&]\w+=([A-Za-z0-9_%-]{20,})", message.text_body)
    assert found, f"no reset link in {message.text_body!r}"
    return unquote(found.group(1))


async def emailed_reset_token(shop: Container, email: str) -> str:
    """Relay the outbox and send the emails waiting, as the worker would; the token of the
    newest password-reset email to `email`."""
    await deliver_jobs(shop)
    resets = [m for m in mailer(shop).sent_to(email) if "Reset your" in m.subject]
    assert resets, f"no password reset email for {email}"
    return reset_token_in(resets[-1])


async def deliver_jobs(shop: Container) -> int:
    """Relay the outbox and run every job the queue holds, as the worker would."""
    relayed = await shop.outbox_relay().relay_all()
    bus = shop.message_bus()
    for job in task_queue(shop).jobs:
        await bus.handle_job(job.payload)
    return relayed


async def stock_of(shop: Container, product: Product) -> int:
    return (await shop.catalog().get_product(product.id)).inventory_count
