"""In-memory repositories over a `Transaction` (see unit_of_work.py).

Filtering, sorting and keyset pagination do what the ports say, as the SQL adapter does;
the shared contract tests in tests/contract/ hold both to them. The rules behind a
listing (which products a shopper sees, how a search or a category compares) are the
application's: a repository takes its query as given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from application.pagination import decode_cursor, encode_cursor
from application.ports.persistence import (
    AuditEntry,
    AuditQuery,
    DuplicateRecord,
    IdempotencyRecord,
    OrderQuery,
    OutboxKindStatus,
    OutboxMessage,
    Page,
    PageRequest,
    ProductListing,
    ProductSort,
    ReservedProduct,
)
from domain.cart import Cart
from domain.catalog import Product, searchable
from domain.errors import InvalidValue
from domain.events import EventSource
from domain.orders import Order, OrderStatus
from domain.payments import Payment, PaymentStatus
from domain.uploads import Upload
from domain.users import ApiKey, Role, User
from domain.values import Email, Quantity

if TYPE_CHECKING:
    from adapters.fakes.unit_of_work import Transaction

T = TypeVar("T")
A = TypeVar("A", bound=EventSource)


def _paginate(
    items: Iterable[T],
    sort_key: Callable[[T], Any],
    item_id: Callable[[T], str],
    page: PageRequest,
    *,
    descending: bool,
) -> Page[T]:
    """Sort by (sort_key, id), start after the cursor, cut at the limit."""
    limit = page.limit
    ordered = sorted(items, key=lambda item: (sort_key(item), item_id(item)), reverse=descending)
    if page.cursor is not None:
        after = decode_cursor(page.cursor)
        try:
            if descending:
                ordered = [i for i in ordered if (sort_key(i), item_id(i)) < after]
            else:
                ordered = [i for i in ordered if (sort_key(i), item_id(i)) > after]
        except TypeError:
            raise InvalidValue("cursor", "does not belong to this listing") from None
    chunk = ordered[:limit]
    next_cursor = None
    if len(ordered) > limit:
        last = chunk[-1]
        next_cursor = encode_cursor(sort_key(last), item_id(last))
    return Page(items=chunk, next_cursor=next_cursor)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


class _Repository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def _tracked(self, aggregate: A | None) -> A | None:
        """Hand `aggregate` out through the unit of work, which writes its new events to
        the outbox at commit (application/collected_events.py)."""
        return None if aggregate is None else self._tx.events.track(aggregate)


class InMemoryUsers(_Repository):
    async def add(self, user: User) -> None:
        if self._by_email(user.email) is not None or self._tx.read("users", user.id):
            raise DuplicateRecord("users.email")
        self._tx.write("users", self._tx.events.track(user).id, user)

    async def get(self, user_id: str) -> User | None:
        return self._tracked(self._tx.read("users", user_id))

    async def get_by_email(self, email: Email) -> User | None:
        return self._tracked(self._by_email(email))

    def _by_email(self, email: Email) -> User | None:
        return next((u for u in self._tx.rows("users") if u.email == email), None)

    async def save(self, user: User) -> None:
        self._tx.write("users", self._tx.events.track(user).id, user)

    async def list_page(self, page: PageRequest) -> Page[User]:
        found = _paginate(
            self._tx.rows("users"),
            lambda u: _iso(u.created_at),
            lambda u: u.id,
            page,
            descending=False,
        )
        self._tx.events.track_all(found.items)
        return found

    async def any_with_role(self, role: Role) -> bool:
        return any(u.role is role for u in self._tx.rows("users"))


class InMemoryApiKeys(_Repository):
    async def add(self, key: ApiKey) -> None:
        taken = self._tx.read("api_keys", key.id) or await self.get_by_hash(key.key_hash)
        if taken is not None:
            raise DuplicateRecord("api_keys")
        self._tx.write("api_keys", key.id, key)

    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        return next((k for k in self._tx.rows("api_keys") if k.key_hash == key_hash), None)

    async def list_page(self, page: PageRequest) -> Page[ApiKey]:
        return _paginate(
            self._tx.rows("api_keys"),
            lambda k: _iso(k.created_at),
            lambda k: k.id,
            page,
            descending=False,
        )

    async def delete(self, key_id: str) -> bool:
        if self._tx.read("api_keys", key_id) is None:
            return False
        self._tx.delete("api_keys", key_id)
        return True


_PRODUCT_SORTS: dict[ProductSort, tuple[Callable[[Product], Any], bool]] = {
    ProductSort.NEWEST_LAST: (lambda p: _iso(p.created_at), False),
    ProductSort.NEWEST_FIRST: (lambda p: _iso(p.created_at), True),
    ProductSort.PRICE_LOW_FIRST: (lambda p: p.price.amount, False),
    ProductSort.PRICE_HIGH_FIRST: (lambda p: p.price.amount, True),
    ProductSort.NAME: (lambda p: p.name, False),
}


def _matches(product: Product, listing: ProductListing) -> bool:
    if product.is_archived != listing.archived:
        return False
    if listing.text is not None and not (
        listing.text in searchable(product.name) or listing.text in searchable(product.description)
    ):
        return False
    if listing.category is not None and product.category != listing.category:
        return False
    if listing.min_price is not None and product.price.amount < listing.min_price:
        return False
    if listing.max_price is not None and product.price.amount > listing.max_price:
        return False
    return listing.in_stock is None or (product.inventory_count > 0) == listing.in_stock


class InMemoryProducts(_Repository):
    async def add(self, product: Product) -> None:
        if self._tx.read("products", product.id) is not None:
            raise DuplicateRecord("products.id")
        self._check_sku(product)
        self._tx.write("products", product.id, product)

    async def add_many(self, products: list[Product]) -> None:
        for product in products:
            await self.add(product)

    async def get_by_skus(self, skus: list[str], *, for_update: bool = False) -> list[Product]:
        wanted = set(skus)
        return [p for p in self._tx.rows("products") if p.sku is not None and p.sku in wanted]

    def _check_sku(self, product: Product) -> None:
        if product.sku is None:
            return
        for other in self._tx.rows("products"):
            if other.sku == product.sku and other.id != product.id:
                raise DuplicateRecord("products.sku")

    async def get(self, product_id: str, *, for_update: bool = False) -> Product | None:
        product: Product | None = self._tx.read("products", product_id)
        return product

    async def get_many(self, product_ids: list[str]) -> list[Product]:
        found = (self._tx.read("products", pid) for pid in dict.fromkeys(product_ids))
        return [p for p in found if p is not None]

    async def save(self, product: Product) -> None:
        self._check_sku(product)
        self._tx.write("products", product.id, product)

    async def list_page(self, listing: ProductListing) -> Page[Product]:
        sort_key, descending = _PRODUCT_SORTS[listing.sort]
        matching = (p for p in self._tx.rows("products") if _matches(p, listing))
        return _paginate(matching, sort_key, lambda p: p.id, listing.page, descending=descending)

    async def _take(self, product_id: str, quantity: Quantity) -> bool:
        product = await self.get(product_id)
        if product is None or product.is_archived or product.inventory_count < quantity.value:
            return False
        product.inventory_count -= quantity.value
        self._tx.write("products", product_id, product)
        return True

    async def reserve_lines(self, quantities: Mapping[str, Quantity]) -> dict[str, ReservedProduct]:
        taken: dict[str, ReservedProduct] = {}
        for product_id in sorted(quantities):
            quantity = quantities[product_id]
            if await self._take(product_id, quantity):
                product = await self.get(product_id)
                assert product is not None
                taken[product_id] = ReservedProduct(
                    product_id, product.name, product.price, quantity
                )
        return taken

    async def release_stock(self, product_id: str, quantity: Quantity) -> None:
        product = await self.get(product_id)
        if product is not None:
            product.inventory_count += quantity.value
            self._tx.write("products", product_id, product)


class InMemoryCarts(_Repository):
    async def get(self, user_id: str) -> Cart | None:
        cart: Cart | None = self._tx.read("carts", user_id)
        return cart

    async def save(self, cart: Cart) -> None:
        self._tx.write("carts", cart.user_id, cart)


class InMemoryOrders(_Repository):
    async def next_number(self) -> int:
        return self._tx.next_order_number()

    async def add(self, order: Order) -> None:
        number_taken = await self.get_id_by_number(order.number) is not None
        if number_taken or self._tx.read("orders", order.id) is not None:
            raise DuplicateRecord("orders")
        self._tx.write("orders", self._tx.events.track(order).id, order)

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        return self._tracked(self._tx.read("orders", order_id))

    async def get_id_by_number(self, number: int) -> str | None:
        return next((o.id for o in self._tx.rows("orders") if o.number == number), None)

    async def save(self, order: Order) -> None:
        self._tx.write("orders", self._tx.events.track(order).id, order)

    async def list_page(self, query: OrderQuery) -> Page[Order]:
        matching = (
            o
            for o in self._tx.rows("orders")
            if (query.user_id is None or o.user_id == query.user_id)
            and (query.status is None or o.status is query.status)
        )
        found = _paginate(
            matching, lambda o: _iso(o.created_at), lambda o: o.id, query.page, descending=True
        )
        self._tx.events.track_all(found.items)
        return found

    async def list_pending_placed_before(self, cutoff: datetime, limit: int) -> list[str]:
        pending = sorted(
            (
                o
                for o in self._tx.rows("orders")
                if o.status is OrderStatus.PENDING and o.created_at < cutoff
            ),
            key=lambda o: (o.created_at, o.id),
        )
        return [o.id for o in pending[:limit]]


class InMemoryPayments(_Repository):
    async def add(self, payment: Payment) -> None:
        rows = list(self._tx.rows("payments"))
        if (
            any(p.order_id == payment.order_id for p in rows)
            or self._tx.read("payments", payment.id) is not None
            or (
                payment.intent_id is not None
                and any(p.intent_id == payment.intent_id for p in rows)
            )
        ):
            raise DuplicateRecord("payments.order_id")
        self._tx.write("payments", self._tx.events.track(payment).id, payment)

    async def get_for_order(self, order_id: str, *, for_update: bool = False) -> Payment | None:
        return self._tracked(
            next((p for p in self._tx.rows("payments") if p.order_id == order_id), None)
        )

    async def get_by_intent(self, intent_id: str, *, for_update: bool = False) -> Payment | None:
        return self._tracked(
            next((p for p in self._tx.rows("payments") if p.intent_id == intent_id), None)
        )

    async def save(self, payment: Payment) -> None:
        self._tx.write("payments", self._tx.events.track(payment).id, payment)

    async def list_pending_created_before(self, cutoff: datetime, limit: int) -> list[Payment]:
        pending = sorted(
            (
                p
                for p in self._tx.rows("payments")
                if p.status is PaymentStatus.PENDING and p.created_at < cutoff
            ),
            key=lambda p: (p.created_at, p.id),
        )
        self._tx.events.track_all(pending[:limit])
        return pending[:limit]


class InMemoryOutbox(_Repository):
    """Rows are (message, enqueued_at, handled_at)."""

    async def add(self, message: OutboxMessage) -> None:
        if self._tx.read("outbox", message.id) is not None:
            raise DuplicateRecord("outbox.id")
        self._tx.write("outbox", message.id, (message, None, None))

    async def get(
        self, message_id: str
    ) -> tuple[OutboxMessage, datetime | None, datetime | None] | None:
        row: tuple[OutboxMessage, datetime | None, datetime | None] | None = self._tx.read(
            "outbox", message_id
        )
        return row

    async def status(self) -> list[OutboxKindStatus]:
        kinds: dict[str, list[OutboxMessage]] = {}
        for message, _, handled_at in self._tx.rows("outbox"):
            if handled_at is None:
                kinds.setdefault(message.name, []).append(message)
        return [
            OutboxKindStatus(
                name=name,
                unhandled=len(messages),
                oldest_unhandled_at=min(m.created_at for m in messages),
                most_attempts=max(m.attempts for m in messages),
            )
            for name, messages in sorted(kinds.items())
        ]

    async def mark_unhandled(self, message_id: str) -> bool:
        row = self._tx.read("outbox", message_id)
        if row is None:
            return False
        self._tx.write("outbox", message_id, (row[0], None, None))
        return True

    async def list_unsent(self, limit: int) -> list[OutboxMessage]:
        return self._oldest_first(
            [m for (m, enqueued_at, _) in self._tx.rows("outbox") if enqueued_at is None], limit
        )

    async def list_due(self, limit: int, enqueued_before: datetime) -> list[OutboxMessage]:
        due = [
            m
            for (m, enqueued_at, handled_at) in self._tx.rows("outbox")
            if handled_at is None and (enqueued_at is None or enqueued_at < enqueued_before)
        ]
        return self._oldest_first(due, limit)

    @staticmethod
    def _oldest_first(messages: list[OutboxMessage], limit: int) -> list[OutboxMessage]:
        messages.sort(key=lambda m: (m.created_at, m.id))
        return messages[:limit]

    async def mark_enqueued(self, message_ids: list[str], at: datetime) -> None:
        for message_id in dict.fromkeys(message_ids):  # one attempt each, as in SQL's IN
            row = self._tx.read("outbox", message_id)
            if row is not None:
                message = dataclasses.replace(row[0], attempts=row[0].attempts + 1)
                self._tx.write("outbox", message_id, (message, at, row[2]))

    async def mark_handled(self, message_id: str, at: datetime) -> None:
        row = self._tx.read("outbox", message_id)
        if row is not None and row[2] is None:
            self._tx.write("outbox", message_id, (row[0], row[1], at))

    async def is_handled(self, message_id: str) -> bool:
        row = self._tx.read("outbox", message_id)
        return row is not None and row[2] is not None

    async def oldest_unhandled(self) -> datetime | None:
        waiting = [
            m.created_at for (m, _, handled_at) in self._tx.rows("outbox") if handled_at is None
        ]
        return min(waiting, default=None)

    async def purge_handled_before(self, cutoff: datetime) -> int:
        old = [
            m.id
            for (m, _, handled_at) in self._tx.rows("outbox")
            if handled_at is not None and handled_at < cutoff
        ]
        for message_id in old:
            self._tx.delete("outbox", message_id)
        return len(old)


class InMemoryIdempotency(_Repository):
    async def get(self, user_id: str, key: str) -> IdempotencyRecord | None:
        record: IdempotencyRecord | None = self._tx.read("idempotency", (user_id, key))
        return record

    async def add(self, record: IdempotencyRecord) -> None:
        if self._tx.read("idempotency", (record.user_id, record.key)) is not None:
            raise DuplicateRecord("idempotency_records")
        self._tx.write("idempotency", (record.user_id, record.key), record)

    async def purge_before(self, cutoff: datetime) -> int:
        old = [r for r in self._tx.rows("idempotency") if r.created_at < cutoff]
        for record in old:
            self._tx.delete("idempotency", (record.user_id, record.key))
        return len(old)


class InMemoryProcessedEvents(_Repository):
    async def add(self, provider: str, event_id: str, at: datetime) -> bool:
        if self._tx.read("processed_events", (provider, event_id)) is not None:
            return False
        self._tx.write("processed_events", (provider, event_id), at)
        return True

    async def purge_before(self, cutoff: datetime) -> int:
        table = "processed_events"
        keys = [k for k in self._tx.keys(table) if (self._tx.read(table, k) or cutoff) < cutoff]
        for key in keys:
            self._tx.delete(table, key)
        return len(keys)


class InMemoryUploads(_Repository):
    async def add(self, upload: Upload) -> None:
        if self._tx.read("uploads", upload.id) is not None:
            raise DuplicateRecord("uploads.id")
        self._tx.write("uploads", upload.id, upload)

    async def get(self, upload_id: str) -> Upload | None:
        upload: Upload | None = self._tx.read("uploads", upload_id)
        return upload

    async def incomplete_before(self, cutoff: datetime, limit: int) -> list[Upload]:
        stale = [
            upload
            for upload in self._tx.rows("uploads")
            if upload.completed_at is None and upload.created_at < cutoff
        ]
        return sorted(stale, key=lambda upload: (upload.created_at, upload.id))[:limit]

    async def delete_incomplete(self, upload_id: str) -> bool:
        upload: Upload | None = self._tx.read("uploads", upload_id)
        if upload is None or upload.completed_at is not None:
            return False
        self._tx.delete("uploads", upload_id)
        return True

    async def save(self, upload: Upload) -> None:
        self._tx.write("uploads", upload.id, upload)


class InMemoryAudit(_Repository):
    async def add(self, entry: AuditEntry) -> None:
        if self._tx.read("audit", entry.id) is not None:
            raise DuplicateRecord("audit_log")
        self._tx.write("audit", entry.id, entry)

    async def list_page(self, query: AuditQuery) -> Page[AuditEntry]:
        def matches(entry: AuditEntry) -> bool:
            if query.actor is not None and query.actor not in (
                entry.actor_user_id,
                entry.actor_api_key_id,
                entry.actor_operator,
            ):
                return False
            if query.target is not None and entry.target_id != query.target:
                return False
            return query.since is None or entry.at >= query.since

        return _paginate(
            (e for e in self._tx.rows("audit") if matches(e)),
            lambda e: _iso(e.at),
            lambda e: e.id,
            query.page,
            descending=True,
        )

    async def for_target(self, target_type: str, target_id: str) -> list[AuditEntry]:
        found = [
            e
            for e in self._tx.rows("audit")
            if (e.target_type, e.target_id) == (target_type, target_id)
        ]
        return sorted(found, key=lambda e: (e.at, e.id))
