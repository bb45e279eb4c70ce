"""Orders and their lines (copied from the cart once, never changed afterwards)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from adapters.sql.keyset import Keyset, SortValue
from adapters.sql.tables import order_lines, order_number_counter, order_number_sequence, orders
from adapters.sql.transaction import SqlTransaction
from application.ports.persistence import DuplicateRecord, OrderQuery, Page
from domain.money import Money
from domain.orders import Order, OrderLine, OrderStatus
from domain.values import Address, Quantity

_NEWEST_FIRST = Keyset(orders.c.created_at, orders.c.id, SortValue.TIMESTAMP, descending=True)


def _order_values(order: Order) -> dict[str, Any]:
    currency = order.currency
    for amount in (order.paid_amount, order.refunded_amount):
        if amount.currency != currency:
            # The domain keeps an order in one currency; one column holds it.
            raise ValueError(f"order {order.id} mixes {currency} and {amount.currency}")
    address = order.shipping_address
    return {
        "number": order.number,
        "user_id": order.user_id,
        "status": order.status.value,
        "currency": currency,
        "total_amount": order.total_amount.amount,
        "paid_amount": order.paid_amount.amount,
        "refunded_amount": order.refunded_amount.amount,
        "ship_name": address.name,
        "ship_line1": address.line1,
        "ship_line2": address.line2,
        "ship_city": address.city,
        "ship_postal_code": address.postal_code,
        "ship_country": address.country,
        "tracking_number": order.tracking_number,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "version": order.version,
    }


def _line_rows(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order.id,
            "position": position,
            "product_id": line.product_id,
            "name": line.name,
            "unit_price_amount": line.unit_price.amount,
            "unit_price_currency": line.unit_price.currency,
            "quantity": line.quantity.value,
        }
        for position, line in enumerate(order.lines)
    ]


def _order(row: Row[Any], lines: list[OrderLine]) -> Order:
    return Order(
        id=row.id,
        number=row.number,
        user_id=row.user_id,
        lines=tuple(lines),
        shipping_address=Address(
            name=row.ship_name,
            line1=row.ship_line1,
            line2=row.ship_line2,
            city=row.ship_city,
            postal_code=row.ship_postal_code,
            country=row.ship_country,
        ),
        status=OrderStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        paid_amount=Money(row.paid_amount, row.currency),
        refunded_amount=Money(row.refunded_amount, row.currency),
        tracking_number=row.tracking_number,
        version=row.version,
    )


_LINE_COLUMNS = [
    order_lines.c.product_id.label("line_product_id"),
    order_lines.c.name.label("line_name"),
    order_lines.c.unit_price_amount.label("line_price_amount"),
    order_lines.c.unit_price_currency.label("line_price_currency"),
    order_lines.c.quantity.label("line_quantity"),
]


def _line(row: Row[Any]) -> OrderLine:
    return OrderLine(
        product_id=row.line_product_id,
        name=row.line_name,
        unit_price=Money(row.line_price_amount, row.line_price_currency),
        quantity=Quantity(row.line_quantity),
    )


class SqlOrderRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def next_number(self) -> int:
        """From a sequence on PostgreSQL (no lock held, gaps possible); from a counter row
        on SQLite, where transactions run one at a time anyway."""
        if self._tx.is_postgres:
            statement: Any = select(order_number_sequence.next_value())
        else:
            statement = (
                update(order_number_counter)
                .where(order_number_counter.c.id == 1)
                .values(last_number=order_number_counter.c.last_number + 1)
                .returning(order_number_counter.c.last_number)
            )
        return int((await self._tx.execute(statement)).scalar_one())

    async def add(self, order: Order) -> None:
        """Two statements whatever the size of the order: the row, then every line in one
        executemany. Raises DuplicateRecord if the id or number exists already."""
        if not await self._tx.insert_new(orders, dict(id=order.id, **_order_values(order))):
            raise DuplicateRecord("orders")
        await self._tx.execute(order_lines.insert(), _line_rows(order))
        self._tx.remember("order", order.id, order.version)
        self._tx.events.track(order)

    async def get_id_by_number(self, number: int) -> str | None:
        found = await self._tx.execute(select(orders.c.id).where(orders.c.number == number))
        return found.scalar_one_or_none()

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        """The order with its lines, in one statement (an outer join)."""
        query = (
            select(orders, *_LINE_COLUMNS)
            .select_from(orders.outerjoin(order_lines))
            .where(orders.c.id == order_id)
            .order_by(order_lines.c.position)
        )
        if for_update:
            query = query.with_for_update(of=orders)
        rows = (await self._tx.execute(query)).all()
        if not rows:
            return None
        order = _order(rows[0], [_line(row) for row in rows if row.line_product_id is not None])
        self._tx.remember("order", order_id, order.version)
        return self._tx.events.track(order)

    async def save(self, order: Order) -> None:
        """Updates the order row only: lines never change once the order is placed."""
        await self._tx.update_aggregate(orders, "order", order.id, _order_values(order))
        self._tx.events.track(order)

    async def list_page(self, query: OrderQuery) -> Page[Order]:
        """Newest first, by (created_at, id)."""
        conditions = []
        if query.user_id is not None:
            conditions.append(orders.c.user_id == query.user_id)
        if query.status is not None:
            conditions.append(orders.c.status == query.status.value)
        statement, limit = _NEWEST_FIRST.paginate(select(orders).where(*conditions), query.page)
        rows, next_cursor = _NEWEST_FIRST.cut((await self._tx.execute(statement)).all(), limit)
        found = await self._with_lines(rows)
        self._tx.events.track_all(found)
        return Page(items=found, next_cursor=next_cursor)

    async def list_pending_placed_before(self, cutoff: datetime, limit: int) -> list[str]:
        query = (
            select(orders.c.id)
            .where(orders.c.status == OrderStatus.PENDING.value, orders.c.created_at < cutoff)
            .order_by(orders.c.created_at, orders.c.id)
            .limit(limit)
        )
        return list((await self._tx.execute(query)).scalars().all())

    async def _with_lines(self, rows: Sequence[Row[Any]]) -> list[Order]:
        if not rows:
            return []
        query = (
            select(order_lines)
            .where(order_lines.c.order_id.in_([row.id for row in rows]))
            .order_by(order_lines.c.order_id, order_lines.c.position)
        )
        lines: dict[str, list[OrderLine]] = {row.id: [] for row in rows}
        for line in (await self._tx.execute(query)).all():
            lines[line.order_id].append(
                OrderLine(
                    product_id=line.product_id,
                    name=line.name,
                    unit_price=Money(line.unit_price_amount, line.unit_price_currency),
                    quantity=Quantity(line.quantity),
                )
            )
        return [_order(row, lines[row.id]) for row in rows]
