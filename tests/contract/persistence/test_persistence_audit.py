"""AuditRepository contract: entries round trip; listings newest first, filtered by actor
(any of its three columns), target and time; a target's trail oldest first."""

from __future__ import annotations

import dataclasses

import pytest

from application.pagination import encode_cursor
from application.ports.persistence import (
    AuditEntry,
    AuditQuery,
    DuplicateRecord,
    PageRequest,
    UnitOfWorkFactory,
)
from domain.errors import InvalidValue
from tests.contract.persistence.persistence_builders import at
from tests.contract.persistence.persistence_stores import InMemoryStore, PostgresStore, SqliteStore


def an_entry(
    n: int,
    *,
    seconds: float | None = None,
    user: str | None = None,
    api_key: str | None = None,
    operator: str | None = None,
    target: tuple[str, str] = ("order", "order-000001"),
) -> AuditEntry:
    return AuditEntry(
        id=f"audit-{n:04d}",
        at=at(n if seconds is None else seconds),
        actor_user_id=user,
        actor_api_key_id=api_key,
        actor_operator=operator,
        action="order.ship",
        target_type=target[0],
        target_id=target[1],
        summary={"tracking": f"T{n}", "lines": [n, n + 1], "note": None},
        request_id=f"req-{n}" if n % 2 else None,
    )


async def add_all(uow: UnitOfWorkFactory, *entries: AuditEntry) -> None:
    async with uow() as tx:
        for entry in entries:
            await tx.audit.add(entry)
        await tx.commit()


async def ids(uow: UnitOfWorkFactory, query: AuditQuery) -> list[str]:
    """Every page of the listing, two entries a page, following the cursors."""
    found: list[str] = []
    cursor = None
    async with uow() as tx:
        while True:
            page = await tx.audit.list_page(
                dataclasses.replace(query, page=PageRequest(limit=2, cursor=cursor))
            )
            found += [entry.id for entry in page.items]
            assert len(found) <= 100, "the cursors go round in circles"
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor


class AuditRepositoryContract:
    async def test_an_entry_round_trips_with_every_field(self, uow: UnitOfWorkFactory) -> None:
        entries = [an_entry(1, user="user-0001"), an_entry(2, operator="ops@example.com")]
        await add_all(uow, *entries)
        async with uow() as tx:
            page = await tx.audit.list_page(AuditQuery())
        assert page.items == list(reversed(entries))
        assert page.next_cursor is None

    async def test_an_entry_id_is_taken_once(self, uow: UnitOfWorkFactory) -> None:
        first = an_entry(1, user="user-0001")
        await add_all(uow, first)
        with pytest.raises(DuplicateRecord):
            async with uow() as tx:
                await tx.audit.add(dataclasses.replace(an_entry(2), id=first.id))
        async with uow() as tx:
            assert (await tx.audit.list_page(AuditQuery())).items == [first]

    async def test_entries_list_newest_first_with_ties_by_id(self, uow: UnitOfWorkFactory) -> None:
        entries = [an_entry(n, seconds=n // 2) for n in range(1, 8)]
        await add_all(uow, *reversed(entries))
        expected = [e.id for e in sorted(entries, key=lambda e: (e.at, e.id), reverse=True)]
        assert await ids(uow, AuditQuery()) == expected

    async def test_an_actor_is_any_of_user_api_key_or_operator(
        self, uow: UnitOfWorkFactory
    ) -> None:
        await add_all(
            uow,
            an_entry(1, user="actor-1"),
            an_entry(2, api_key="actor-1"),
            an_entry(3, operator="actor-1"),
            an_entry(4, user="user-0002", api_key="actor-1"),
            an_entry(5, user="someone-else"),
            an_entry(6),
        )
        assert await ids(uow, AuditQuery(actor="actor-1")) == [
            "audit-0004",
            "audit-0003",
            "audit-0002",
            "audit-0001",
        ]
        assert await ids(uow, AuditQuery(actor="nobody")) == []

    async def test_target_and_since_narrow_the_listing(self, uow: UnitOfWorkFactory) -> None:
        mug = ("product", "prod-0001")
        await add_all(
            uow,
            an_entry(1, user="u", target=mug),
            an_entry(2, user="u"),
            an_entry(3, user="v", target=mug),
            an_entry(4, user="u", target=mug),
            an_entry(5, user="u", target=("order", "prod-0001")),
        )
        assert await ids(uow, AuditQuery(target="prod-0001")) == [
            "audit-0005",
            "audit-0004",
            "audit-0003",
            "audit-0001",
        ]
        # `since` is inclusive.
        assert await ids(uow, AuditQuery(since=at(3))) == [
            "audit-0005",
            "audit-0004",
            "audit-0003",
        ]
        assert await ids(uow, AuditQuery(actor="u", target="prod-0001", since=at(2))) == [
            "audit-0005",
            "audit-0004",
        ]

    async def test_a_targets_trail_is_oldest_first_and_of_that_type_only(
        self, uow: UnitOfWorkFactory
    ) -> None:
        order = ("order", "order-000001")
        entries = [
            an_entry(3, seconds=5, target=order),
            an_entry(1, seconds=5, target=order),
            an_entry(2, seconds=1, target=order),
            an_entry(4, seconds=0, target=("product", "order-000001")),
            an_entry(5, seconds=0, target=("order", "order-000002")),
        ]
        await add_all(uow, *entries)
        async with uow() as tx:
            trail = await tx.audit.for_target(*order)
            assert await tx.audit.for_target("order", "order-999999") == []
        assert [e.id for e in trail] == ["audit-0002", "audit-0001", "audit-0003"]

    async def test_a_bad_cursor_is_invalid(self, uow: UnitOfWorkFactory) -> None:
        await add_all(uow, an_entry(1), an_entry(2))
        async with uow() as tx:
            for page in (
                PageRequest(cursor="not a cursor"),
                PageRequest(cursor=encode_cursor(5, "audit-0001")),
            ):
                with pytest.raises(InvalidValue):
                    await tx.audit.list_page(AuditQuery(page=page))


class TestAuditInMemory(InMemoryStore, AuditRepositoryContract):
    pass


class TestAuditSqlite(SqliteStore, AuditRepositoryContract):
    pass


class TestAuditPostgres(PostgresStore, AuditRepositoryContract):
    pass
