"""Users, their roles, and the API keys that let other programs act with limited scopes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import InvalidValue, WeakPassword
from domain.events import DomainEvent, EventSource, UserRegistered
from domain.values import Email, required_text

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

# A short list of the passwords that fill every breach dump; long enough to stop the worst.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "1111111111",
        "0000000000",
        "1q2w3e4r5t",
        "qwertyuiop",
        "password123",
        "password12",
        "password1!",
        "passwordpassword",
        "iloveyou123",
        "qwerty1234",
        "qwerty12345",
        "abcdefghij",
        "abc1234567",
        "letmein123",
        "welcome123",
        "administrator",
        "monkey1234",
        "football12",
        "baseball12",
        "sunshine12",
        "princess12",
        "dragon1234",
        "1qaz2wsx3edc",
        "zaq12wsxcde",
        "changeme123",
        "trustno1234",
        "password1234",
        "passw0rd123",
        "superman123",
        "asdfghjkl1",
        "asdfghjkl;",
        "aaaaaaaaaa",
        "qwertyuiop1",
        "q1w2e3r4t5",
        "9876543210",
        "123123123123",
    }
)


def check_password_strength(password: str) -> str:
    """Return `password` if it is acceptable, else raise WeakPassword."""
    if not isinstance(password, str):
        raise WeakPassword("must be a string")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"must be at most {MAX_PASSWORD_LENGTH} characters")
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 3:
        raise WeakPassword("is too common; choose a less guessable one")
    return password


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"


class Scope(enum.StrEnum):
    PRODUCTS_READ = "products:read"
    PRODUCTS_WRITE = "products:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"


def parse_scopes(values: list[str]) -> frozenset[Scope]:
    scopes = set()
    for value in values:
        try:
            scopes.add(Scope(value))
        except ValueError:
            allowed = ", ".join(scope.value for scope in Scope)
            raise InvalidValue("scopes", f"unknown scope {value!r}; allowed: {allowed}") from None
    if not scopes:
        raise InvalidValue("scopes", "at least one scope is required")
    return frozenset(scopes)


@dataclass(kw_only=True, eq=False)
class User(EventSource):
    id: str
    email: Email
    full_name: str
    password_hash: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime
    version: int = 1
    # Every credential issued to the user (access and refresh tokens) carries the epoch
    # it was issued in; raising it ends them all at once, in every process. A counter,
    # not a time: a token issued in the same second right after the change stays valid.
    token_epoch: int = 0
    # Raised by a role change or a deactivation only: the API keys the user created as an
    # administrator remember it, and die when it moves on.
    role_epoch: int = 0
    _events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.full_name = required_text("full_name", self.full_name, 200)

    @classmethod
    def register(
        cls,
        *,
        user_id: str,
        email: Email,
        full_name: str,
        password_hash: str,
        now: datetime,
        role: Role = Role.CUSTOMER,
    ) -> User:
        user = cls(
            id=user_id,
            email=email,
            full_name=full_name,
            password_hash=password_hash,
            role=role,
            is_active=True,
            created_at=now,
            updated_at=now,
        )
        user.record(UserRegistered(user_id=user.id, email=email.value, full_name=user.full_name))
        return user

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    def rename(self, full_name: str, now: datetime) -> None:
        self.full_name = required_text("full_name", full_name, 200)
        self._touch(now)

    def set_password_hash(self, password_hash: str, now: datetime) -> None:
        """A new password: every session signed in with the old one ends."""
        self.password_hash = password_hash
        self.end_sessions()
        self._touch(now)

    def upgrade_password_hash(self, password_hash: str, now: datetime) -> None:
        """The same password under a stronger hash: sessions go on."""
        self.password_hash = password_hash
        self._touch(now)

    def set_role(self, role: Role, now: datetime) -> None:
        if role is not self.role:
            self.end_sessions()
            self.role_epoch += 1
        self.role = role
        self._touch(now)

    def set_active(self, active: bool, now: datetime) -> None:
        if self.is_active and not active:
            self.end_sessions()
            self.role_epoch += 1
        self.is_active = active
        self._touch(now)

    def end_sessions(self) -> None:
        """Void every token issued to the user so far."""
        self.token_epoch += 1

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1


# `ApiKey.created_by` of a key the shop itself created (no administrator behind it).
SYSTEM_CREATOR = "system"


@dataclass(kw_only=True, eq=False)
class ApiKey:
    """A credential for a third-party program. Only a hash of the secret is kept."""

    id: str
    name: str
    scopes: frozenset[Scope]
    key_hash: str
    prefix: str
    created_by: str
    created_at: datetime
    # The creator's `role_epoch` when the key was made: the key acts for them only while
    # they have stayed an active administrator since.
    creator_role_epoch: int = 0

    def __post_init__(self) -> None:
        self.name = required_text("name", self.name, 100)
        if not self.scopes:
            raise InvalidValue("scopes", "at least one scope is required")
