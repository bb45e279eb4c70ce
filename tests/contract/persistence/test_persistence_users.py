"""UserRepository and ApiKeyRepository contracts."""

from __future__ import annotations

import pytest

from application.pagination import encode_cursor
from application.ports.persistence import DuplicateRecord, PageRequest, UnitOfWorkFactory
from domain.errors import InvalidValue
from domain.users import Role, Scope
from domain.values import Email
from tests.contract.persistence.persistence_builders import (
    T0,
    a_user,
    an_api_key,
    at,
    snapshot,
    store,
)
from tests.contract.persistence.persistence_stores import InMemoryStore, PostgresStore, SqliteStore


class UserRepositoryContract:
    async def test_a_user_round_trips_with_every_field(self, uow: UnitOfWorkFactory) -> None:
        user = a_user(1, role=Role.STAFF)
        user.set_active(False, at(5))
        await store(uow, user)
        async with uow() as tx:
            by_id = await tx.users.get(user.id)
            by_email = await tx.users.get_by_email(Email("SHOPPER.1@example.COM"))
        assert by_id is not None
        assert by_email is not None
        assert snapshot(by_id) == snapshot(user)
        assert snapshot(by_email) == snapshot(user)
        assert by_id.created_at.utcoffset() is not None

    async def test_unknown_users_are_none(self, uow: UnitOfWorkFactory) -> None:
        async with uow() as tx:
            assert await tx.users.get("nobody") is None
            assert await tx.users.get_by_email(Email("nobody@example.com")) is None

    async def test_an_email_is_taken_once(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, a_user(1))
        async with uow() as tx:
            with pytest.raises(DuplicateRecord):
                await tx.users.add(a_user(2, email="shopper.1@example.com"))

    async def test_saved_changes_round_trip(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, a_user(1))
        async with uow() as tx:
            user = await tx.users.get("user-0001")
            assert user is not None
            user.rename("Ada Byron", at(10))
            user.set_role(Role.ADMIN, at(11))
            user.set_password_hash("$argon2id$new", at(12))
            await tx.users.save(user)
            await tx.commit()
        async with uow() as tx:
            found = await tx.users.get("user-0001")
        assert found is not None
        assert snapshot(found) == snapshot(user)
        assert found.version == 4
        assert found.token_epoch == 2  # the role change and the new password
        assert found.role_epoch == 1  # the role change

    async def test_any_with_role(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, a_user(1), a_user(2, role=Role.STAFF))
        async with uow() as tx:
            assert await tx.users.any_with_role(Role.STAFF)
            assert await tx.users.any_with_role(Role.CUSTOMER)
            assert not await tx.users.any_with_role(Role.ADMIN)

    async def test_users_list_oldest_first_page_by_page(self, uow: UnitOfWorkFactory) -> None:
        # Two share a creation time: the id breaks the tie.
        users = [a_user(n, created_at=at(n // 2)) for n in range(1, 8)]
        await store(uow, *reversed(users))
        seen: list[str] = []
        cursor = None
        async with uow() as tx:
            while True:
                page = await tx.users.list_page(PageRequest(limit=3, cursor=cursor))
                seen.extend(user.id for user in page.items)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
        expected = sorted(users, key=lambda u: (u.created_at, u.id))
        assert seen == [user.id for user in expected]

    async def test_a_bad_cursor_is_invalid(self, uow: UnitOfWorkFactory) -> None:
        # A bad limit never reaches a repository: PageRequest refuses it (see
        # tests/application/test_page_request.py).
        await store(uow, a_user(1))
        async with uow() as tx:
            with pytest.raises(InvalidValue):
                await tx.users.list_page(PageRequest(cursor="not a cursor"))
            with pytest.raises(InvalidValue):
                await tx.users.list_page(PageRequest(cursor=encode_cursor(5, "user-0001")))


class ApiKeyRepositoryContract:
    async def test_a_key_round_trips_by_hash(self, uow: UnitOfWorkFactory) -> None:
        key = an_api_key(1)
        await store(uow, a_user(1), key)
        async with uow() as tx:
            by_hash = await tx.api_keys.get_by_hash(key.key_hash)
            assert await tx.api_keys.get_by_hash("0" * 64) is None
        assert by_hash is not None
        assert snapshot(by_hash) == snapshot(key)
        assert by_hash.scopes == frozenset({Scope.PRODUCTS_READ, Scope.ORDERS_WRITE})

    async def test_a_key_id_or_hash_is_taken_once(self, uow: UnitOfWorkFactory) -> None:
        key = an_api_key(1)
        await store(uow, a_user(1), key)
        same_id, same_hash = an_api_key(2), an_api_key(3)
        same_id.id = key.id
        same_hash.key_hash = key.key_hash
        async with uow() as tx:
            for again in (same_id, same_hash):
                with pytest.raises(DuplicateRecord):
                    await tx.api_keys.add(again)
            await tx.commit()
        async with uow() as tx:
            found = await tx.api_keys.get_by_hash(key.key_hash)
            listed = (await tx.api_keys.list_page(PageRequest())).items
        assert [k.id for k in listed] == [key.id]  # neither refused key was stored
        assert found is not None
        assert snapshot(found) == snapshot(key)

    async def test_keys_list_oldest_first(self, uow: UnitOfWorkFactory) -> None:
        keys = [an_api_key(n) for n in range(1, 6)]
        await store(uow, a_user(1), *reversed(keys))
        async with uow() as tx:
            first = await tx.api_keys.list_page(PageRequest(limit=3))
            rest = await tx.api_keys.list_page(PageRequest(limit=3, cursor=first.next_cursor))
        assert [k.id for k in first.items + rest.items] == [k.id for k in keys]
        assert rest.next_cursor is None

    async def test_a_deleted_key_is_gone(self, uow: UnitOfWorkFactory) -> None:
        await store(uow, a_user(1), an_api_key(1), an_api_key(2))
        async with uow() as tx:
            assert await tx.api_keys.delete("key-0001")
            assert not await tx.api_keys.delete("key-0001")
            assert not await tx.api_keys.delete("key-9999")
            await tx.commit()
        async with uow() as tx:
            assert await tx.api_keys.get_by_hash(an_api_key(1).key_hash) is None
            assert await tx.api_keys.get_by_hash(an_api_key(2).key_hash) is not None
            page = await tx.api_keys.list_page(PageRequest())
        assert [k.id for k in page.items] == ["key-0002"]
        assert page.items[0].created_at == T0 + (at(2) - T0)


class TestUsersInMemory(InMemoryStore, UserRepositoryContract):
    pass


class TestUsersSqlite(SqliteStore, UserRepositoryContract):
    pass


class TestUsersPostgres(PostgresStore, UserRepositoryContract):
    pass


class TestApiKeysInMemory(InMemoryStore, ApiKeyRepositoryContract):
    pass


class TestApiKeysSqlite(SqliteStore, ApiKeyRepositoryContract):
    pass


class TestApiKeysPostgres(PostgresStore, ApiKeyRepositoryContract):
    pass
