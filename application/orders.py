"""Placing orders from carts, and everything that happens to them afterwards."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import NoReturn

from application.audit import record_audit
from application.catalog import announce_catalog_change
from application.payment_flow import PaymentFlow
from application.ports.persistence import (
    AuditEntry,
    ConcurrencyConflict,
    DuplicateRecord,
    IdempotencyRecord,
    OrderQuery,
    Page,
    ReservedProduct,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.ports.runtime import Cache, Clock, IdGenerator
from application.principal import STAFF_ROLES, Principal
from application.transactions import in_transaction
from domain.errors import (
    Conflict,
    EmptyCart,
    IdempotencyKeyReused,
    InvalidValue,
    NotFound,
    OutOfStock,
    RuleViolation,
)
from domain.orders import Order, OrderLine
from domain.payments import Payment
from domain.users import Scope
from domain.values import Address, Quantity

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    order: Order
    payment: Payment


def _fingerprint(address: Address) -> str:
    canonical = json.dumps(asdict(address), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidValue("Idempotency-Key", "is required")
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise InvalidValue(
            "Idempotency-Key", f"must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} printable characters"
        )
    return key


class Orders:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        payments: PaymentFlow,
        clock: Clock,
        ids: IdGenerator,
        cache: Cache | None = None,
    ) -> None:
        """`cache`: where cached catalog answers are invalidated when stock moves."""
        self._uow_factory = uow_factory
        self._payments = payments
        self._clock = clock
        self._ids = ids
        self._cache = cache

    async def place_order(
        self, actor: Principal, *, idempotency_key: str, shipping_address: Address
    ) -> PlacedOrder:
        """Turn the caller's cart into a pending order and start its payment.

        One transaction records the idempotency key, reserves every line's stock with one
        conditional update (never overselling), writes the order and its payment, empties
        the cart and records `OrderPlaced`. The payment intent is created after commit with
        the idempotency key `order:<id>`. The same key with the same address returns the
        same order again (and finishes starting its payment if that failed before); with a
        different address it raises IdempotencyKeyReused.
        """
        user_id = actor.require_user()
        key = _check_idempotency_key(idempotency_key)
        fingerprint = _fingerprint(shipping_address)

        async def place(uow: UnitOfWork) -> tuple[str, Order | None]:
            """(order id, the new order) or, for a replayed key, (its order id, None)."""
            order_id = self._ids.new_id()
            record = IdempotencyRecord(
                user_id=user_id,
                key=key,
                request_fingerprint=fingerprint,
                order_id=order_id,
                created_at=self._clock.now(),
            )
            try:
                # Written first: a parallel request with the same key waits on this row
                # until this transaction ends, then finds the key taken.
                await uow.idempotency.add(record)
            except DuplicateRecord:
                earlier = await uow.idempotency.get(user_id, key)
                if earlier is None:
                    raise ConcurrencyConflict("idempotency record vanished; retry") from None
                if earlier.request_fingerprint != fingerprint:
                    raise IdempotencyKeyReused() from None
                return earlier.order_id, None
            try:
                order = await self._create_order(uow, order_id, user_id, shipping_address)
            except InvalidValue as error:
                if error.field != "amount":
                    raise
                # Prices raised since the lines were put in the cart.
                raise RuleViolation(
                    "the order's total would be above the largest amount the shop handles; "
                    "lower a quantity or remove a line"
                ) from error
            await record_audit(
                uow,
                self._ids,
                self._clock,
                actor,
                "order.placed",
                ("order", order_id),
                {"status": order.status.value, "total": str(order.total_amount)},
            )
            return order_id, order

        order_id, new_order = await in_transaction(self._uow_factory, place)
        if new_order is not None:
            await announce_catalog_change(self._cache)  # its stock was taken
        payment = await self._payments.start_payment(order_id)
        # Starting the payment never changes the order, so a new one needs no second read.
        order = new_order if new_order is not None else await self._load(order_id)
        return PlacedOrder(order=order, payment=payment)

    async def _create_order(
        self, uow: UnitOfWork, order_id: str, user_id: str, address: Address
    ) -> Order:
        cart = await uow.carts.get(user_id)
        if cart is None or cart.is_empty:
            raise EmptyCart()
        # One statement takes every line's units (in product id order, so two carts
        # sharing products cannot deadlock) and reads the names and prices they are sold at.
        quantities = dict(cart.lines)
        taken = await uow.products.reserve_lines(quantities)
        if len(taken) != len(quantities):
            await self._refuse(uow, quantities, taken)
        lines = [
            OrderLine(product_id, taken[product_id].name, taken[product_id].unit_price, quantity)
            for product_id, quantity in sorted(cart.lines.items())
        ]
        now = self._clock.now()
        order = Order.place(
            order_id=order_id,
            number=await uow.orders.next_number(),
            user_id=user_id,
            lines=lines,
            shipping_address=address,
            now=now,
        )
        if not order.total_amount.is_positive:
            # Free products exist, but a payment of nothing cannot be started: a rule of
            # the shop (422), not a field of the request.
            raise RuleViolation("an order must have something to pay for")
        await uow.orders.add(order)
        await uow.payments.add(
            Payment.start(
                payment_id=self._ids.new_id(),
                order_id=order.id,
                user_id=user_id,
                provider=self._payments.provider,
                amount=order.total_amount,
                now=now,
            )
        )
        cart.clear(now)
        await uow.carts.save(cart)
        return order

    @staticmethod
    async def _refuse(
        uow: UnitOfWork, quantities: dict[str, Quantity], taken: dict[str, ReservedProduct]
    ) -> NoReturn:
        """Why some line could not be reserved: the first such line, by product id."""
        missing = sorted(set(quantities) - set(taken))
        products = {p.id: p for p in await uow.products.get_many(missing)}
        product_id = missing[0]
        product = products.get(product_id)
        if product is None or not product.is_available:
            raise Conflict(f"product {product_id} is no longer available; remove it")
        raise OutOfStock(product_id, quantities[product_id].value)

    async def get_order(self, actor: Principal, order_id: str) -> Order:
        """The order, if the caller owns it or may read every order; else NotFound."""
        order = await self._load(order_id)
        if not self._may_read(actor, order):
            raise NotFound("order", order_id)
        return order

    async def history(self, actor: Principal, order_id: str) -> list[AuditEntry]:
        """The order's status changes (and refunds) with who made them, oldest first;
        for whoever may read the order."""
        await self.get_order(actor, order_id)
        async with self._uow_factory() as uow:
            return await uow.audit.for_target("order", order_id)

    async def find_order(self, actor: Principal, reference: str) -> Order:
        """An order by its id or, for a reference of digits, its number (staff)."""
        if reference.isdigit() and len(reference) <= 18:
            actor.require(STAFF_ROLES, Scope.ORDERS_READ)
            async with self._uow_factory() as uow:
                order_id = await uow.orders.get_id_by_number(int(reference))
            if order_id is None:
                raise NotFound("order", reference)
            reference = order_id
        return await self.get_order(actor, reference)

    async def list_orders(self, actor: Principal, query: OrderQuery) -> Page[Order]:
        """Staff, admins and `orders:read` keys see every order; users see their own."""
        if actor.may(STAFF_ROLES, Scope.ORDERS_READ):
            effective = query
        else:
            effective = OrderQuery(
                user_id=actor.require_user(), status=query.status, page=query.page
            )
        async with self._uow_factory() as uow:
            return await uow.orders.list_page(effective)

    async def list_payments(self, actor: Principal, order_id: str) -> list[Payment]:
        order = await self._load(order_id)
        if not (actor.is_staff or (actor.user_id is not None and actor.user_id == order.user_id)):
            raise NotFound("order", order_id)
        async with self._uow_factory() as uow:
            payment = await uow.payments.get_for_order(order_id)
        return [payment] if payment is not None else []

    async def cancel_order(self, actor: Principal, order_id: str) -> Order:
        """The owner, staff or an admin cancels a pending or paid order: its stock is
        released and, if it was paid, the whole payment is refunded."""

        def allowed(order: Order) -> bool:
            return actor.is_staff or (actor.user_id is not None and actor.user_id == order.user_id)

        reason = "cancelled by staff" if actor.is_staff else "cancelled by customer"
        return await self._payments.cancel(order_id, reason=reason, allowed=allowed, actor=actor)

    async def ship_order(
        self, actor: Principal, order_id: str, tracking_number: str | None = None
    ) -> Order:
        actor.require(STAFF_ROLES, Scope.ORDERS_WRITE)
        if tracking_number is not None and not 0 < len(tracking_number.strip()) <= 100:
            raise InvalidValue("tracking_number", "must be 1 to 100 characters")

        async def ship(uow: UnitOfWork) -> Order:
            order = await self._locked(uow, order_id)
            order.ship(tracking_number.strip() if tracking_number else None, self._clock.now())
            await uow.orders.save(order)
            await record_audit(
                uow,
                self._ids,
                self._clock,
                actor,
                "order.shipped",
                ("order", order_id),
                {"status": order.status.value, "tracking_number": order.tracking_number},
            )
            return order

        return await in_transaction(self._uow_factory, ship)

    async def deliver_order(self, actor: Principal, order_id: str) -> Order:
        actor.require(STAFF_ROLES, Scope.ORDERS_WRITE)

        async def deliver(uow: UnitOfWork) -> Order:
            order = await self._locked(uow, order_id)
            order.deliver(self._clock.now())
            await uow.orders.save(order)
            await record_audit(
                uow,
                self._ids,
                self._clock,
                actor,
                "order.delivered",
                ("order", order_id),
                {"status": order.status.value},
            )
            return order

        return await in_transaction(self._uow_factory, deliver)

    async def expire_unpaid_orders(self, older_than: timedelta, limit: int = 100) -> int:
        """Cancel pending orders placed more than `older_than` ago; returns how many."""
        cutoff = self._clock.now() - older_than
        async with self._uow_factory() as uow:
            order_ids = await uow.orders.list_pending_placed_before(cutoff, limit)
        expired = 0
        for order_id in order_ids:
            if await self._payments.expire(order_id):
                expired += 1
        return expired

    def _may_read(self, actor: Principal, order: Order) -> bool:
        if actor.may(STAFF_ROLES, Scope.ORDERS_READ):
            return True
        return actor.user_id is not None and actor.user_id == order.user_id

    async def _load(self, order_id: str) -> Order:
        async with self._uow_factory() as uow:
            order = await uow.orders.get(order_id)
        if order is None:
            raise NotFound("order", order_id)
        return order

    @staticmethod
    async def _locked(uow: UnitOfWork, order_id: str) -> Order:
        order = await uow.orders.get(order_id, for_update=True)
        if order is None:
            raise NotFound("order", order_id)
        return order
