"""Running a piece of work in a unit of work, retried when the store aborts it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from application.ports.errors import ServiceUnavailable
from application.ports.persistence import ConcurrencyConflict, UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")

DEFAULT_ATTEMPTS = 5


async def in_transaction(
    uow_factory: UnitOfWorkFactory,
    work: Callable[[UnitOfWork], Awaitable[T]],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
) -> T:
    """Run `work` in a fresh unit of work and commit it.

    A serialization failure or deadlock (`ConcurrencyConflict`) re-runs the whole of
    `work` in a new transaction, at most `attempts` times; `work` must therefore do
    nothing outside the unit of work that it cannot safely repeat.
    """
    for _ in range(attempts):
        try:
            async with uow_factory() as uow:
                result = await work(uow)
                await uow.commit()
                return result
        except ConcurrencyConflict:
            continue
    raise ServiceUnavailable("the database is too busy right now; please retry")
