"""Carts: one per user, its lines in the order they were first put in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from adapters.sql.tables import cart_lines, carts
from adapters.sql.transaction import ABSENT, SqlTransaction
from application.ports.persistence import ConcurrencyConflict
from domain.cart import Cart
from domain.values import Quantity


class SqlCartRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx
        self._lines_read: dict[str, list[tuple[str, Quantity]]] = {}

    async def get(self, user_id: str) -> Cart | None:
        query = (
            select(
                carts.c.updated_at, carts.c.version, cart_lines.c.product_id, cart_lines.c.quantity
            )
            .select_from(carts.outerjoin(cart_lines))
            .where(carts.c.user_id == user_id)
            .order_by(cart_lines.c.position)
        )
        rows = (await self._tx.execute(query)).all()
        if not rows:
            self._tx.remember("cart", user_id, ABSENT)
            return None
        cart = Cart(
            user_id=user_id,
            updated_at=rows[0].updated_at,
            lines={row.product_id: Quantity(row.quantity) for row in rows if row.product_id},
            version=rows[0].version,
        )
        self._tx.remember("cart", user_id, cart.version)
        self._lines_read[user_id] = list(cart.lines.items())
        return cart

    async def save(self, cart: Cart) -> None:
        """Write the cart. A cart read in this transaction must be unchanged since (else
        ConcurrencyConflict); a cart found missing must still be missing (two first
        items racing: ConcurrencyConflict for one, whose retry sees the other's cart); a
        cart never read is written over whatever is there."""
        values = {"updated_at": cart.updated_at, "version": cart.version}
        seen = self._tx.seen_version("cart", cart.user_id)
        lines = list(cart.lines.items())
        if isinstance(seen, int) and not lines and self._tx.is_postgres:
            # Emptying a cart (every order placed does): the lines' DELETE rides along
            # with the cart's UPDATE as a data-modifying CTE, one statement. If the
            # UPDATE finds the cart changed, ConcurrencyConflict rolls both back.
            emptied = delete(cart_lines).where(cart_lines.c.user_id == cart.user_id)
            await self._tx.update_aggregate(
                carts, "cart", cart.user_id, values, along=emptied.cte("emptied_lines")
            )
            self._lines_read[cart.user_id] = lines
            return
        if isinstance(seen, int):
            await self._tx.update_aggregate(carts, "cart", cart.user_id, values)
        else:
            insert = self._tx.insert(carts).values(user_id=cart.user_id, **values)
            if seen is ABSENT:
                result = await self._tx.execute(insert.on_conflict_do_nothing())
                if result.rowcount != 1:
                    raise ConcurrencyConflict(f"cart of {cart.user_id} was created meanwhile")
            else:
                await self._tx.execute(
                    insert.on_conflict_do_update(index_elements=[carts.c.user_id], set_=values)
                )
            self._tx.remember("cart", cart.user_id, cart.version)
        if self._lines_read.get(cart.user_id) != lines:
            await self._replace_lines(cart.user_id, lines, had_lines=seen is not ABSENT)
            self._lines_read[cart.user_id] = lines

    async def _replace_lines(
        self, user_id: str, lines: list[tuple[str, Quantity]], *, had_lines: bool
    ) -> None:
        if had_lines:
            await self._tx.execute(delete(cart_lines).where(cart_lines.c.user_id == user_id))
        if lines:
            rows: list[dict[str, Any]] = [
                {"user_id": user_id, "product_id": pid, "position": n, "quantity": q.value}
                for n, (pid, q) in enumerate(lines)
            ]
            await self._tx.execute(cart_lines.insert(), rows)
