"""Unit of work and repositories.

A repository is small: add, get, save, plus the queries a use case really needs. It hands
out domain objects and takes them back; how they are stored is the adapter's business.
`get(..., for_update=True)` locks the row (or the whole store) until the unit of work ends,
so that two transactions changing the same aggregate run one after the other.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from application.message_context import current_work_context
from domain.cart import Cart
from domain.catalog import Product
from domain.errors import InvalidValue
from domain.events import DomainEvent, event_to_record
from domain.money import Money
from domain.orders import Order, OrderStatus
from domain.payments import Payment
from domain.uploads import Upload
from domain.users import ApiKey, Role, User
from domain.values import Email, Quantity

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class DuplicateRecord(Exception):
    """An insert hit a unique constraint (another transaction got there first)."""


class ConcurrencyConflict(Exception):
    """The store aborted the transaction (serialization failure, deadlock); retry it."""


@dataclass(frozen=True, slots=True)
class PageRequest:
    """At most `limit` items (1..MAX_PAGE_SIZE, else InvalidValue naming `limit`), after
    the item `cursor` names (None: from the first). Only the adapter that made a cursor
    can read it: a listing refuses one it did not make with InvalidValue."""

    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None

    def __post_init__(self) -> None:
        limit = self.limit
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidValue("limit", f"must be between 1 and {MAX_PAGE_SIZE}")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


class ProductSort(enum.StrEnum):
    NEWEST_LAST = "created_at"
    NEWEST_FIRST = "-created_at"
    PRICE_LOW_FIRST = "price"
    PRICE_HIGH_FIRST = "-price"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class ProductListing:
    """A page of products as storage selects it. The catalog has applied its rules
    already (`application.catalog.product_listing`), so an adapter takes every field as
    it is, folding, trimming and adding nothing:

    - `archived`: the products whose `is_archived` is this;
    - `text`: None, or text in searchable form (`domain.catalog.searchable`) that is a
      substring (`%` and `_` are plain characters) of `searchable(name)` or of
      `searchable(description)` (text in another form may or may not match: SQLite's
      LIKE ignores ASCII case);
    - `category`: None, or equal to the product's category;
    - `min_price`, `max_price`: None, or inclusive bounds on the price's amount;
    - `in_stock`: None, or whether `inventory_count > 0`;
    - sorted by `sort`, ties by id, keyset-paginated by `page`.
    """

    archived: bool
    text: str | None = None
    category: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    sort: ProductSort = ProductSort.NEWEST_FIRST
    page: PageRequest = PageRequest()


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """Orders newest first; `user_id=None` means every user's orders."""

    user_id: str | None = None
    status: OrderStatus | None = None
    page: PageRequest = PageRequest()


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: str
    name: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int = 0
    # The request id (and trace context) of the work that wrote it: application.message_context.
    context: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """Remembers which order an Idempotency-Key produced, and for which request."""

    user_id: str
    key: str
    request_fingerprint: str
    order_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One administrative action or order status change (application/audit.py)."""

    id: str
    at: datetime
    actor_user_id: str | None
    actor_api_key_id: str | None
    actor_operator: str | None
    action: str
    target_type: str
    target_id: str
    summary: dict[str, Any]
    request_id: str | None = None

    @property
    def actor_name(self) -> str:
        names = [
            name
            for name in (
                self.actor_operator,
                f"user:{self.actor_user_id}" if self.actor_user_id else None,
                f"api-key:{self.actor_api_key_id}" if self.actor_api_key_id else None,
            )
            if name is not None
        ]
        return " as ".join(names) or "system"


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Entries newest first. `actor`: a user id, an API key id or an operator name;
    `target`: a target id (of any type); `since`: at or after."""

    actor: str | None = None
    target: str | None = None
    since: datetime | None = None
    page: PageRequest = PageRequest()


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> None:
        """Raises DuplicateRecord if the id is taken."""

    async def list_page(self, query: AuditQuery) -> Page[AuditEntry]: ...
    async def for_target(self, target_type: str, target_id: str) -> list[AuditEntry]:
        """Every entry about the target, oldest first."""


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Raises DuplicateRecord when the email (or the id) is taken."""

    async def get(self, user_id: str) -> User | None: ...
    async def get_by_email(self, email: Email) -> User | None: ...
    async def save(self, user: User) -> None: ...
    async def list_page(self, page: PageRequest) -> Page[User]: ...
    async def any_with_role(self, role: Role) -> bool: ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None:
        """Raises DuplicateRecord if the id or the key hash is taken."""

    async def get_by_hash(self, key_hash: str) -> ApiKey | None: ...
    async def list_page(self, page: PageRequest) -> Page[ApiKey]: ...
    async def delete(self, key_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class ReservedProduct:
    """What one line of `ProductRepository.reserve_lines` took, and from what."""

    product_id: str
    name: str
    unit_price: Money
    quantity: Quantity


class ProductRepository(Protocol):
    async def add(self, product: Product) -> None:
        """Raises DuplicateRecord if the id or the sku is taken."""

    async def add_many(self, products: list[Product]) -> None:
        """Add every product in one round trip (a catalog import); raises DuplicateRecord
        if any id or sku is taken (then the unit of work must be rolled back)."""

    async def get(self, product_id: str, *, for_update: bool = False) -> Product | None: ...
    async def get_many(self, product_ids: list[str]) -> list[Product]: ...
    async def get_by_skus(self, skus: list[str], *, for_update: bool = False) -> list[Product]:
        """The products (archived ones too) holding any of `skus`, in no given order."""

    async def save(self, product: Product) -> None:
        """Raises DuplicateRecord if the product's new sku is taken."""

    async def list_page(self, listing: ProductListing) -> Page[Product]:
        """The page of products `listing` selects (see ProductListing)."""

    async def reserve_lines(self, quantities: Mapping[str, Quantity]) -> dict[str, ReservedProduct]:
        """Take the units of every line (product id -> quantity) in one step; a line takes
        its units only if at least that many are free and the product is not archived, by
        one conditional update, so concurrent callers can never take the same unit twice
        nor a unit of a product archived meanwhile (which is why these two rules sit in
        the adapter's statement, not in the caller). Returns what was taken for
        each line that could be served, with the product's name and price at that moment.

        A line missing from the answer (unknown, archived or short of stock) took
        nothing; the lines that were served did take their units, so a caller that wants
        all or nothing rolls the unit of work back when any line is missing.
        """

    async def release_stock(self, product_id: str, quantity: Quantity) -> None:
        """Atomically give back `quantity` units."""


class CartRepository(Protocol):
    async def get(self, user_id: str) -> Cart | None: ...
    async def save(self, cart: Cart) -> None: ...


class OrderRepository(Protocol):
    async def next_number(self) -> int:
        """A unique, increasing, human-friendly order number."""

    async def add(self, order: Order) -> None:
        """Raises DuplicateRecord if the id or the number is taken."""

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None: ...
    async def get_id_by_number(self, number: int) -> str | None:
        """The id of the order with this number, if any."""

    async def save(self, order: Order) -> None: ...
    async def list_page(self, query: OrderQuery) -> Page[Order]: ...
    async def list_pending_placed_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Ids of orders still pending that were placed before `cutoff`, oldest first."""


class PaymentRepository(Protocol):
    async def add(self, payment: Payment) -> None:
        """Raises DuplicateRecord if the order already has a payment, or the id or the
        intent is taken."""

    async def get_for_order(self, order_id: str, *, for_update: bool = False) -> Payment | None: ...

    async def get_by_intent(
        self, intent_id: str, *, for_update: bool = False
    ) -> Payment | None: ...

    async def save(self, payment: Payment) -> None: ...
    async def list_pending_created_before(self, cutoff: datetime, limit: int) -> list[Payment]: ...


@dataclass(frozen=True, slots=True)
class OutboxKindStatus:
    """The messages of one kind (event name) not handled yet."""

    name: str
    unhandled: int
    oldest_unhandled_at: datetime | None
    most_attempts: int


class OutboxRepository(Protocol):
    async def add(self, message: OutboxMessage) -> None:
        """Raises DuplicateRecord if the id is taken."""

    async def get(
        self, message_id: str
    ) -> tuple[OutboxMessage, datetime | None, datetime | None] | None:
        """The message, when it was last enqueued and when it was handled (None: not)."""

    async def status(self) -> list[OutboxKindStatus]:
        """Per kind with messages not handled yet, by name."""

    async def mark_unhandled(self, message_id: str) -> bool:
        """Hand the message on again at the next relay (neither enqueued nor handled any
        more); False if there is none."""

    async def list_unsent(self, limit: int) -> list[OutboxMessage]:
        """Messages never handed to the task queue, oldest first."""

    async def list_due(self, limit: int, enqueued_before: datetime) -> list[OutboxMessage]:
        """Messages not handled yet that were never enqueued, or last enqueued before
        `enqueued_before`; oldest first, locked (skipping rows other relays hold) until the
        unit of work ends."""

    async def mark_enqueued(self, message_ids: list[str], at: datetime) -> None:
        """Record that the messages were handed to the task queue at `at` (once more)."""

    async def mark_handled(self, message_id: str, at: datetime) -> None:
        """Record that the message's handler finished at `at` (a no-op if it already had,
        or if the message is gone)."""

    async def is_handled(self, message_id: str) -> bool:
        """True if the message's handler finished, or the message was purged after that."""

    async def oldest_unhandled(self) -> datetime | None:
        """When the oldest message not handled yet was written; None if there is none."""

    async def purge_handled_before(self, cutoff: datetime) -> int: ...


class IdempotencyRepository(Protocol):
    async def get(self, user_id: str, key: str) -> IdempotencyRecord | None: ...
    async def add(self, record: IdempotencyRecord) -> None:
        """Raises DuplicateRecord if (user_id, key) exists, once the other writer committed."""

    async def purge_before(self, cutoff: datetime) -> int: ...


class ProcessedEventRepository(Protocol):
    """What was handled once and must not be handled again, keyed by (provider, event id).

    It has two uses, told apart by `provider`:
    - the payment provider's events: `provider` is the gateway's name and `event_id` the
      provider's event id, so a redelivered webhook changes nothing;
    - the email ledger: `provider` is `EMAIL_LEDGER` ("email", application.notifications)
      and `event_id` is "<outbox message id>:<email kind>", so each email goes out once.
    `purge_before` forgets entries of both."""

    async def add(self, provider: str, event_id: str, at: datetime) -> bool:
        """Record the event; False (and nothing written) if it was already recorded."""

    async def purge_before(self, cutoff: datetime) -> int: ...


class UploadRepository(Protocol):
    async def add(self, upload: Upload) -> None:
        """Raises DuplicateRecord if an upload with this id exists."""

    async def get(self, upload_id: str) -> Upload | None: ...
    async def save(self, upload: Upload) -> None: ...

    async def incomplete_before(self, cutoff: datetime, limit: int) -> list[Upload]:
        """At most `limit` uploads not completed and created before `cutoff`, oldest
        first."""

    async def delete_incomplete(self, upload_id: str) -> bool:
        """Forget the upload if it is still not completed; False if it is gone or was
        completed meanwhile."""


class UnitOfWork(Protocol):
    """One transaction. Leaving the `async with` block without `commit()` rolls back.

    Its repositories remember the aggregates they hand out and take in, and `commit()`
    writes the events those raised since (and those given to `record`) to the outbox
    in the same transaction (application/collected_events.py).
    """

    users: UserRepository
    api_keys: ApiKeyRepository
    products: ProductRepository
    carts: CartRepository
    orders: OrderRepository
    payments: PaymentRepository
    outbox: OutboxRepository
    idempotency: IdempotencyRepository
    processed_events: ProcessedEventRepository
    uploads: UploadRepository
    audit: AuditRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None:
        """Write the new events to the outbox and make every change durable; raises
        ConcurrencyConflict if the store aborted it (the events stay on their aggregates)."""

    async def rollback(self) -> None: ...
    def record(self, event: DomainEvent) -> None:
        """Have an event that no aggregate raised written to the outbox at commit."""


UnitOfWorkFactory = Callable[[], UnitOfWork]


def outbox_message(event: DomainEvent, message_id: str, at: datetime) -> OutboxMessage:
    name, payload = event_to_record(event)
    return OutboxMessage(
        id=message_id,
        name=name,
        payload=payload,
        created_at=at,
        context=current_work_context(),
    )
