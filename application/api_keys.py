"""Scoped API keys for third-party programs. The key is shown once; only its digest is kept."""

from __future__ import annotations

from dataclasses import dataclass

from application.audit import record_audit
from application.credentials import API_KEY_PREFIX, digest, new_api_key
from application.ports.persistence import Page, PageRequest, UnitOfWorkFactory
from application.ports.runtime import Clock, IdGenerator
from application.principal import ADMIN_ONLY, STAFF_ROLES, Principal
from domain.errors import Conflict, NotFound
from domain.users import ApiKey, parse_scopes


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    api_key: ApiKey
    key: str


class ApiKeys:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, ids: IdGenerator) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._ids = ids

    async def create(
        self, actor: Principal, *, name: str, scopes: list[str], owner_id: str | None = None
    ) -> IssuedApiKey:
        """A new key, owned by `owner_id` (an active staff or admin user; the admin CLI
        names one) or else by the actor."""
        actor.require(ADMIN_ONLY)
        if owner_id is not None:
            async with self._uow_factory() as uow:
                owner = await uow.users.get(owner_id)
            if owner is None:
                raise NotFound("user", owner_id)
            if not owner.is_active or owner.role not in STAFF_ROLES:
                raise Conflict(f"{owner.email.value} is not an active staff or admin user")
        key = new_api_key()
        api_key = ApiKey(
            id=self._ids.new_id(),
            name=name,
            scopes=parse_scopes(scopes),
            key_hash=digest(key),
            prefix=key[: len(API_KEY_PREFIX) + 6],
            created_by=owner_id or actor.user_id or "system",
            created_at=self._clock.now(),
        )
        async with self._uow_factory() as uow:
            await uow.api_keys.add(api_key)
            await record_audit(
                uow,
                self._ids,
                self._clock,
                actor,
                "api_key.create",
                ("api_key", api_key.id),
                {
                    "name": name,
                    "scopes": sorted(s.value for s in api_key.scopes),
                    "owner": api_key.created_by,
                },
            )
            await uow.commit()
        return IssuedApiKey(api_key=api_key, key=key)

    async def list_keys(self, actor: Principal, page: PageRequest) -> Page[ApiKey]:
        actor.require(ADMIN_ONLY)
        async with self._uow_factory() as uow:
            return await uow.api_keys.list_page(page)

    async def revoke(self, actor: Principal, key_id: str) -> None:
        """Delete the key; it stops working at once."""
        actor.require(ADMIN_ONLY)
        async with self._uow_factory() as uow:
            deleted = await uow.api_keys.delete(key_id)
            if deleted:
                await record_audit(
                    uow, self._ids, self._clock, actor, "api_key.revoke", ("api_key", key_id)
                )
            await uow.commit()
        if not deleted:
            raise NotFound("api key", key_id)
