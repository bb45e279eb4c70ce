"""UnitOfWork contract: one transaction per `async with`, durable only once committed."""

from __future__ import annotations

import pytest

from application.ports.persistence import DuplicateRecord, UnitOfWorkFactory
from domain.values import Quantity
from tests.contract.persistence.persistence_builders import a_product, a_user, snapshot, store
from tests.contract.persistence.persistence_stores import InMemoryStore, PostgresStore, SqliteStore


class UnitOfWorkContract:
    async def test_committed_changes_are_seen_by_the_next_unit_of_work(
        self, uow: UnitOfWorkFactory
    ) -> None:
        user = a_user(1)
        async with uow() as tx:
            await tx.users.add(user)
            await tx.commit()
        async with uow() as tx:
            found = await tx.users.get(user.id)
        assert found is not None
        assert snapshot(found) == snapshot(user)

    async def test_leaving_without_commit_leaves_nothing(self, uow: UnitOfWorkFactory) -> None:
        async with uow() as tx:
            await tx.users.add(a_user(1))
            await tx.products.add(a_product(1))
        async with uow() as tx:
            assert await tx.users.get("user-0001") is None
            assert await tx.products.get("prod-0001") is None

    async def test_an_error_inside_the_block_rolls_everything_back(
        self, uow: UnitOfWorkFactory
    ) -> None:
        async def fail_half_way() -> None:
            async with uow() as tx:
                await tx.users.add(a_user(1))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await fail_half_way()
        async with uow() as tx:
            assert await tx.users.get("user-0001") is None

    async def test_rollback_discards_what_was_not_committed(self, uow: UnitOfWorkFactory) -> None:
        async with uow() as tx:
            await tx.users.add(a_user(1))
            await tx.commit()
            await tx.users.add(a_user(2))
            await tx.rollback()
            await tx.users.add(a_user(3))
            await tx.commit()
        async with uow() as tx:
            assert await tx.users.get("user-0001") is not None
            assert await tx.users.get("user-0002") is None
            assert await tx.users.get("user-0003") is not None

    async def test_work_after_a_commit_needs_its_own_commit(self, uow: UnitOfWorkFactory) -> None:
        async with uow() as tx:
            await tx.users.add(a_user(1))
            await tx.commit()
            await tx.users.add(a_user(2))
        async with uow() as tx:
            assert await tx.users.get("user-0001") is not None
            assert await tx.users.get("user-0002") is None

    async def test_a_transaction_sees_its_own_writes(self, uow: UnitOfWorkFactory) -> None:
        product = a_product(1, inventory=3)
        async with uow() as tx:
            await tx.products.add(product)
            assert product.id in await tx.products.reserve_lines({product.id: Quantity(2)})
            found = await tx.products.get(product.id)
            assert found is not None
            assert found.inventory_count == 1

    async def test_a_duplicate_leaves_the_transaction_usable(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, a_user(1))
        async with uow() as tx:
            with pytest.raises(DuplicateRecord):
                await tx.users.add(a_user(2, email="shopper.1@example.com"))
            await tx.users.add(a_user(3))
            await tx.commit()
        async with uow() as tx:
            assert await tx.users.get("user-0002") is None
            assert await tx.users.get("user-0003") is not None


class TestUnitOfWorkInMemory(InMemoryStore, UnitOfWorkContract):
    pass


class TestUnitOfWorkSqlite(SqliteStore, UnitOfWorkContract):
    pass


class TestUnitOfWorkPostgres(PostgresStore, UnitOfWorkContract):
    pass
