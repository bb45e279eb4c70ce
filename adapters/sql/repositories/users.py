"""Users and the API keys that act for programs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, literal, select

from adapters.sql.keyset import Keyset, SortValue
from adapters.sql.tables import api_keys, users
from adapters.sql.transaction import SqlTransaction
from application.ports.persistence import DuplicateRecord, Page, PageRequest
from domain.users import ApiKey, Role, Scope, User
from domain.values import Email

_USERS_BY_CREATION = Keyset(users.c.created_at, users.c.id, SortValue.TIMESTAMP)
_KEYS_BY_CREATION = Keyset(api_keys.c.created_at, api_keys.c.id, SortValue.TIMESTAMP)


def _user_values(user: User) -> dict[str, Any]:
    return {
        "email": user.email.value,
        "full_name": user.full_name,
        "password_hash": user.password_hash,
        "role": user.role.value,
        "is_active": user.is_active,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "version": user.version,
        "token_epoch": user.token_epoch,
        "role_epoch": user.role_epoch,
    }


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=Email.restored(row.email),
        full_name=row.full_name,
        password_hash=row.password_hash,
        role=Role(row.role),
        is_active=row.is_active,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        token_epoch=row.token_epoch,
        role_epoch=row.role_epoch,
    )


class SqlUserRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, user: User) -> None:
        """Raises DuplicateRecord if the email (or id) is taken; the transaction stays
        usable (the insert is ON CONFLICT DO NOTHING)."""
        statement = (
            self._tx.insert(users).values(id=user.id, **_user_values(user)).on_conflict_do_nothing()
        )
        if (await self._tx.execute(statement)).rowcount != 1:
            raise DuplicateRecord("users.email")
        self._tx.remember("user", user.id, user.version)
        self._tx.events.track(user)

    async def get(self, user_id: str) -> User | None:
        return await self._one(select(users).where(users.c.id == user_id))

    async def get_by_email(self, email: Email) -> User | None:
        return await self._one(select(users).where(users.c.email == email.value))

    async def save(self, user: User) -> None:
        await self._tx.update_aggregate(users, "user", user.id, _user_values(user))
        self._tx.events.track(user)

    async def list_page(self, page: PageRequest) -> Page[User]:
        query, limit = _USERS_BY_CREATION.paginate(select(users), page)
        rows, next_cursor = _USERS_BY_CREATION.cut((await self._tx.execute(query)).all(), limit)
        found = [_user(row) for row in rows]
        self._tx.events.track_all(found)
        return Page(items=found, next_cursor=next_cursor)

    async def any_with_role(self, role: Role) -> bool:
        query = select(literal(1)).select_from(users).where(users.c.role == role.value).limit(1)
        return (await self._tx.execute(query)).first() is not None

    async def _one(self, query: Any) -> User | None:
        row = (await self._tx.execute(query)).first()
        if row is None:
            return None
        user = _user(row)
        self._tx.remember("user", user.id, user.version)
        return self._tx.events.track(user)


def _api_key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        scopes=frozenset(Scope(value) for value in row.scopes.split()),
        key_hash=row.key_hash,
        prefix=row.prefix,
        created_by=row.created_by,
        created_at=row.created_at,
        creator_role_epoch=row.creator_role_epoch,
    )


class SqlApiKeyRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def add(self, key: ApiKey) -> None:
        """Raises DuplicateRecord if the id or the key hash exists already."""
        statement = (
            self._tx.insert(api_keys)
            .values(
                id=key.id,
                name=key.name,
                scopes=" ".join(sorted(scope.value for scope in key.scopes)),
                key_hash=key.key_hash,
                prefix=key.prefix,
                created_by=key.created_by,
                created_at=key.created_at,
                creator_role_epoch=key.creator_role_epoch,
            )
            .on_conflict_do_nothing()
        )
        if (await self._tx.execute(statement)).rowcount != 1:
            raise DuplicateRecord("api_keys")

    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        query = select(api_keys).where(api_keys.c.key_hash == key_hash)
        row = (await self._tx.execute(query)).first()
        return None if row is None else _api_key(row)

    async def list_page(self, page: PageRequest) -> Page[ApiKey]:
        query, limit = _KEYS_BY_CREATION.paginate(select(api_keys), page)
        rows, next_cursor = _KEYS_BY_CREATION.cut((await self._tx.execute(query)).all(), limit)
        return Page(items=[_api_key(row) for row in rows], next_cursor=next_cursor)

    async def delete(self, key_id: str) -> bool:
        result = await self._tx.execute(delete(api_keys).where(api_keys.c.id == key_id))
        return result.rowcount == 1
