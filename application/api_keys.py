"""Scoped API keys for third-party programs. The key is shown once; only its digest is kept."""

from __future__ import annotations

from dataclasses import dataclass

from application.audit import record_audit
from application.credentials import API_KEY_PREFIX, digest, new_api_key
from application.ports.persistence import Page, PageRequest, UnitOfWorkFactory
from application.ports.runtime import Clock, IdGenerator
from application.principal import ADMIN_ONLY, Principal
from domain.errors import Conflict, NotFound, PermissionDenied
from domain.users import SYSTEM_CREATOR, ApiKey, Role, parse_scopes


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
        """A new key acting for its owner: `owner_id` (the admin CLI names one) or else the
        actor. The owner must be an active administrator as things stand now, not as the
        caller's token said; the key is refused once they are no longer one."""
        actor.require(ADMIN_ONLY)
        key = new_api_key()
        parsed_scopes = parse_scopes(scopes)
        async with self._uow_factory() as uow:
            role_epoch = 0
            owner_key = owner_id or actor.user_id
            if owner_key is not None:
                owner = await uow.users.get(owner_key)
                if owner_id is not None and owner is None:
                    raise NotFound("user", owner_id)
                if owner is None or not owner.is_active or owner.role is not Role.ADMIN:
                    if owner_id is not None and owner is not None:
                        raise Conflict(f"{owner.email.value} is not an active admin")
                    raise PermissionDenied("you are not allowed to do this")
                role_epoch = owner.role_epoch
            api_key = ApiKey(
                id=self._ids.new_id(),
                name=name,
                scopes=parsed_scopes,
                key_hash=digest(key),
                prefix=key[: len(API_KEY_PREFIX) + 6],
                created_by=owner_key or SYSTEM_CREATOR,
                created_at=self._clock.now(),
                creator_role_epoch=role_epoch,
            )
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
