"""The user's own profile, and the administration of users."""

from __future__ import annotations

from dataclasses import dataclass

from application.audit import record_audit
from application.ports.persistence import (
    DuplicateRecord,
    Page,
    PageRequest,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.ports.runtime import Clock, IdGenerator
from application.ports.security import PasswordHasher, TokenStore
from application.principal import ADMIN_ONLY, Principal
from application.transactions import in_transaction
from domain.errors import Conflict, EmailAlreadyRegistered, InvalidValue, NotFound
from domain.users import Role, User, check_password_strength
from domain.values import Email


@dataclass(frozen=True, slots=True)
class UserChanges:
    """An administrator's change to a user; None leaves a field as it is."""

    role: Role | None = None
    is_active: bool | None = None


async def add_new_user(
    uow_factory: UnitOfWorkFactory,
    user: User,
    ids: IdGenerator,
    clock: Clock,
    created_by: Principal | None = None,
) -> None:
    """Store a just-registered user with its `UserRegistered` event, in one transaction.
    Raises EmailAlreadyRegistered if the email is taken (also when another request took
    it a moment ago). `created_by`: the administrator who made the account (audited).
    The event stays on `user` until a commit writes it, so a retried transaction writes
    it too."""

    async def create(uow: UnitOfWork) -> None:
        try:
            await uow.users.add(user)
        except DuplicateRecord:
            raise EmailAlreadyRegistered() from None
        if created_by is not None:
            summary = {"email": user.email.value, "role": user.role.value}
            await record_audit(
                uow, ids, clock, created_by, "user.create", ("user", user.id), summary
            )

    await in_transaction(uow_factory, create)


def _change_action(changes: UserChanges) -> str:
    if changes.role is not None and changes.is_active is None:
        return "user.set_role"
    if changes.role is None and changes.is_active is not None:
        return "user.activate" if changes.is_active else "user.deactivate"
    return "user.change"


class UserAccounts:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        tokens: TokenStore,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._ids = ids

    async def get_me(self, actor: Principal) -> User:
        user_id = actor.require_user()
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise NotFound("user", user_id)
        return user

    async def update_me(
        self,
        actor: Principal,
        *,
        full_name: str | None = None,
        current_password: str | None = None,
        new_password: str | None = None,
    ) -> User:
        """Rename, and/or change the password (which needs the current one and signs out
        every other session)."""
        user_id = actor.require_user()
        if (current_password is None) != (new_password is None):
            raise InvalidValue("new_password", "current_password and new_password go together")
        new_hash: str | None = None
        if new_password is not None and current_password is not None:
            check_password_strength(new_password)
            user = await self.get_me(actor)
            if not await self._hasher.verify(user.password_hash, current_password):
                raise InvalidValue("current_password", "is not your current password")
            new_hash = await self._hasher.hash(new_password)

        async def update(uow: UnitOfWork) -> User:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("user", user_id)
            now = self._clock.now()
            if full_name is not None:
                user.rename(full_name, now)
            if new_hash is not None:
                user.set_password_hash(new_hash, now)
            await uow.users.save(user)
            return user

        user = await in_transaction(self._uow_factory, update)
        if new_hash is not None:
            await self._tokens.revoke_user(user_id)
        return user

    async def list_users(self, actor: Principal, page: PageRequest) -> Page[User]:
        actor.require(ADMIN_ONLY)
        async with self._uow_factory() as uow:
            return await uow.users.list_page(page)

    async def get_user(self, actor: Principal, user_id: str) -> User:
        actor.require(ADMIN_ONLY)
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise NotFound("user", user_id)
        return user

    async def get_user_by_email(self, actor: Principal, email: str) -> User:
        actor.require(ADMIN_ONLY)
        address = Email(email)
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_email(address)
        if user is None:
            raise NotFound("user", address.value)
        return user

    async def change_user(self, actor: Principal, user_id: str, changes: UserChanges) -> User:
        """Change a user's role or active flag. Deactivating signs the user out everywhere;
        an administrator cannot demote or deactivate themselves (no lock-out by accident)."""
        actor.require(ADMIN_ONLY)
        if user_id == actor.user_id and (
            (changes.role is not None and changes.role is not Role.ADMIN)
            or changes.is_active is False
        ):
            raise Conflict("you cannot remove your own administrator access")

        async def update(uow: UnitOfWork) -> User:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("user", user_id)
            now = self._clock.now()
            if changes.role is not None:
                user.set_role(changes.role, now)
            if changes.is_active is not None:
                user.set_active(changes.is_active, now)
            await uow.users.save(user)
            await record_audit(
                uow,
                self._ids,
                self._clock,
                actor,
                _change_action(changes),
                ("user", user_id),
                {
                    "role": changes.role.value if changes.role else None,
                    "is_active": changes.is_active,
                },
            )
            return user

        user = await in_transaction(self._uow_factory, update)
        if changes.is_active is False:
            await self._tokens.revoke_user(user_id)
        return user

    async def create_user(
        self, actor: Principal, *, email: str, password: str, full_name: str, role: Role
    ) -> User:
        """An administrator (or `hexmart users create`) creates an account with any role."""
        actor.require(ADMIN_ONLY)
        address = Email(email)
        check_password_strength(password)
        password_hash = await self._hasher.hash(password)
        user = User.register(
            user_id=self._ids.new_id(),
            email=address,
            full_name=full_name,
            password_hash=password_hash,
            now=self._clock.now(),
            role=role,
        )

        await add_new_user(self._uow_factory, user, self._ids, self._clock, created_by=actor)
        return user

    async def ensure_first_admin(self, *, email: str, password: str) -> User | None:
        """Create the first administrator if there is none yet (start-up bootstrap).

        Returns the new admin, or None when an admin already exists. If the email belongs
        to an existing account, that account is promoted and reactivated (its password
        is kept): a start-up must never end with no usable administrator.
        """
        async with self._uow_factory() as uow:
            if await uow.users.any_with_role(Role.ADMIN):
                return None
            existing = await uow.users.get_by_email(Email(email))
        if existing is not None:
            return await self.change_user(
                Principal.system(), existing.id, UserChanges(role=Role.ADMIN, is_active=True)
            )
        return await self.create_user(
            Principal.system(),
            email=email,
            password=password,
            full_name="Administrator",
            role=Role.ADMIN,
        )
