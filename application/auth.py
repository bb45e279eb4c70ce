"""Sign-up, sign-in, token refresh with rotation, sign-out, password reset, and turning
presented credentials into a `Principal`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from application.credentials import (
    digest,
    new_refresh_token,
    new_secret,
    refresh_token_family,
)
from application.password_resets import (
    PasswordResetTokens,
    password_fingerprint,
    reset_subject,
)
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.runtime import Clock, IdGenerator
from application.ports.security import (
    IssuedToken,
    PasswordHasher,
    RefreshFamily,
    RotationResult,
    TokenIssuer,
    TokenStore,
)
from application.principal import Principal
from application.transactions import in_transaction
from application.users import add_new_user
from domain.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidToken,
    InvalidValue,
    PermissionDenied,
)
from domain.events import PasswordResetRequested
from domain.users import SYSTEM_CREATOR, Role, User, check_password_strength
from domain.values import Email


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    refresh_token_ttl: timedelta = timedelta(days=30)
    password_reset_ttl: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    token_type: str = "bearer"


class Authentication:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        issuer: TokenIssuer,
        tokens: TokenStore,
        clock: Clock,
        ids: IdGenerator,
        policy: AuthPolicy | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._issuer = issuer
        self._tokens = tokens
        self._clock = clock
        self._ids = ids
        self._policy = policy or AuthPolicy()
        self._resets = PasswordResetTokens(tokens, clock)
        self._decoy_hash: str | None = None

    async def register(self, *, email: str, password: str, full_name: str) -> TokenPair:
        """Create a customer account and sign it in. Raises EmailAlreadyRegistered."""
        address = Email(email)
        check_password_strength(password)
        password_hash = await self._hasher.hash(password)
        user = User.register(
            user_id=self._ids.new_id(),
            email=address,
            full_name=full_name,
            password_hash=password_hash,
            now=self._clock.now(),
        )

        await add_new_user(self._uow_factory, user, self._ids, self._clock)
        return await self._sign_in(user)

    async def login(self, *, email: str, password: str) -> TokenPair:
        """Raises InvalidCredentials for an unknown email or a wrong password alike, and
        AccountDisabled only once the password was right."""
        try:
            address = Email(email)
        except InvalidValue:
            raise InvalidCredentials() from None
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_email(address)
        if user is None:
            # Spend the same time as a real check so response times do not reveal which
            # emails have accounts.
            await self._hasher.verify(await self._decoy(), password)
            raise InvalidCredentials()
        if not await self._hasher.verify(user.password_hash, password):
            raise InvalidCredentials()
        if not user.is_active:
            raise AccountDisabled()
        if self._hasher.needs_rehash(user.password_hash):
            await self._upgrade_hash(user.id, password)
        return await self._sign_in(user)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Spend `refresh_token` for a new pair. Spending one twice revokes its family."""
        family_id = refresh_token_family(refresh_token)
        new_token = new_refresh_token(family_id)
        rotation = await self._tokens.rotate(
            family_id, digest(refresh_token), digest(new_token), self._clock.now()
        )
        if rotation.result is RotationResult.REUSED:
            raise InvalidToken("refresh token already used; every session of it was revoked")
        if rotation.result is not RotationResult.ROTATED or rotation.user_id is None:
            raise InvalidToken("invalid or expired refresh token")
        async with self._uow_factory() as uow:
            user = await uow.users.get(rotation.user_id)
        if user is None or not user.is_active:
            await self._tokens.revoke_family(family_id)
            raise AccountDisabled()
        if rotation.epoch != user.token_epoch:
            # Signed in before a password change, role change or deactivation.
            await self._tokens.revoke_family(family_id)
            raise InvalidToken("this session has ended; sign in again")
        access = self._issue_access_token(user)
        return TokenPair(
            access_token=access.token,
            refresh_token=new_token,
            expires_in=self._seconds_until(access.expires_at),
            user=user,
        )

    async def logout(self, actor: Principal, refresh_token: str) -> None:
        """Revoke the family of `refresh_token` if it belongs to the caller."""
        user_id = actor.require_user()
        family_id = refresh_token_family(refresh_token)
        owner = await self._tokens.family_owner(family_id, self._clock.now())
        if owner == user_id:
            await self._tokens.revoke_family(family_id)

    async def request_password_reset(self, email: str) -> None:
        """Have a one-time reset link emailed if the account exists; say nothing either
        way. The token is issued when the email is sent (see `password_resets`): the
        request records only who asked and until when."""
        try:
            address = Email(email)
        except InvalidValue:
            return
        now = self._clock.now()
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_email(address)
            if user is None or not user.is_active:
                return
            event = PasswordResetRequested(
                user_id=user.id,
                expires_at=(now + self._policy.password_reset_ttl).isoformat(),
                password_fingerprint=password_fingerprint(user),
            )
            uow.record(event)
            await uow.commit()

    async def confirm_password_reset(self, *, token: str, new_password: str) -> None:
        """Set a new password with a reset token (once) and sign out every session."""
        check_password_strength(new_password)
        subject = await self._resets.redeem(token)
        if subject is None:
            raise InvalidToken("invalid or expired password reset token")
        user_id = subject.partition(":")[0]
        password_hash = await self._hasher.hash(new_password)

        async def update(uow: UnitOfWork) -> None:
            user = await uow.users.get(user_id)
            # A token issued before the password last changed is void: changing the
            # password (by reset or in the profile) ends every outstanding reset.
            if user is None or reset_subject(user) != subject:
                raise InvalidToken("invalid or expired password reset token")
            user.set_password_hash(password_hash, self._clock.now())
            await uow.users.save(user)

        await in_transaction(self._uow_factory, update)
        await self._tokens.revoke_user(user_id)

    async def authenticate_access_token(self, token: str) -> Principal:
        """The signed-in user behind a bearer token. The user is read from the database on
        every call, so a deactivation applies at once, and a token issued before the
        user's last password change, role change or deactivation (an older token epoch)
        is refused with InvalidToken."""
        claims = self._issuer.decode_access_token(token)
        async with self._uow_factory() as uow:
            user = await uow.users.get(claims.subject)
        if user is None:
            raise InvalidToken()
        if not user.is_active:
            raise AccountDisabled()
        if claims.epoch != user.token_epoch:
            # Issued before a password change, role change or deactivation: void.
            raise InvalidToken("this session has ended; sign in again")
        return Principal.user(user.id, user.role)

    async def authenticate_api_key(self, key: str) -> Principal:
        """The API key behind `key`. A key acts on behalf of the administrator who created
        it, read from the database on every call: once they are deactivated (or gone) the
        key is refused with InvalidToken (401), and once they are no longer an
        administrator with PermissionDenied (403), for good: their role epoch moved on,
        so being made an administrator again does not revive it."""
        async with self._uow_factory() as uow:
            api_key = await uow.api_keys.get_by_hash(digest(key))
            creator = None
            if api_key is not None and api_key.created_by != SYSTEM_CREATOR:
                creator = await uow.users.get(api_key.created_by)
        if api_key is None:
            raise InvalidToken("invalid API key")
        if api_key.created_by != SYSTEM_CREATOR:
            if creator is None or not creator.is_active:
                raise InvalidToken("this API key's creator is no longer active")
            if creator.role is not Role.ADMIN or creator.role_epoch != api_key.creator_role_epoch:
                raise PermissionDenied(
                    "this API key's creator lost the administrator role since it was made; "
                    "an administrator must create a new key"
                )
        return Principal.api_key(api_key.id, api_key.scopes)

    async def _sign_in(self, user: User) -> TokenPair:
        family_id = self._ids.new_id()
        refresh_token = new_refresh_token(family_id)
        await self._tokens.create_family(
            RefreshFamily(
                family_id=family_id,
                user_id=user.id,
                current_hash=digest(refresh_token),
                expires_at=self._clock.now() + self._policy.refresh_token_ttl,
                epoch=user.token_epoch,
            )
        )
        access = self._issue_access_token(user)
        return TokenPair(
            access_token=access.token,
            refresh_token=refresh_token,
            expires_in=self._seconds_until(access.expires_at),
            user=user,
        )

    def _issue_access_token(self, user: User) -> IssuedToken:
        return self._issuer.issue_access_token(
            subject=user.id, role=user.role.value, epoch=user.token_epoch
        )

    async def _upgrade_hash(self, user_id: str, password: str) -> None:
        new_hash = await self._hasher.hash(password)

        async def save(uow: UnitOfWork) -> None:
            user = await uow.users.get(user_id)
            if user is not None:
                user.upgrade_password_hash(new_hash, self._clock.now())
                await uow.users.save(user)

        await in_transaction(self._uow_factory, save)

    async def _decoy(self) -> str:
        if self._decoy_hash is None:
            self._decoy_hash = await self._hasher.hash(new_secret())
        return self._decoy_hash

    def _seconds_until(self, moment: datetime) -> int:
        return max(0, int((moment - self._clock.now()).total_seconds()))
