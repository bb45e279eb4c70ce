"""Who is asking, and what they may do.

A principal is either a signed-in user (acting with their role) or a third-party API key
(acting with exactly its scopes, never more). Use cases take a principal and check it
themselves, so the rules hold for every entrypoint: HTTP, CLI, or a program using hexmart
as a library.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from domain.errors import PermissionDenied
from domain.users import Role, Scope

STAFF_ROLES = frozenset({Role.STAFF, Role.ADMIN})
ADMIN_ONLY = frozenset({Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str | None = None
    role: Role | None = None
    api_key_id: str | None = None
    scopes: frozenset[Scope] = frozenset()
    # Who at the console acted ("cli:alice"), for the audit trail: the admin CLI's
    # principal, alone (acting as an administrator) or alongside the user of `--as`.
    operator: str | None = None
    # The HTTP request it acts in, for the audit trail.
    request_id: str | None = None

    @classmethod
    def user(cls, user_id: str, role: Role) -> Principal:
        return cls(user_id=user_id, role=role)

    @classmethod
    def api_key(cls, key_id: str, scopes: frozenset[Scope]) -> Principal:
        return cls(api_key_id=key_id, scopes=scopes)

    @classmethod
    def system(cls) -> Principal:
        """The shop itself (workers, CLI maintenance): acts as an administrator."""
        return cls(role=Role.ADMIN)

    @classmethod
    def console(cls, operator: str) -> Principal:
        """An operator at the admin CLI, without `--as`: acts as an administrator."""
        return cls(role=Role.ADMIN, operator=operator)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def may(self, roles: Collection[Role] = (), scope: Scope | None = None) -> bool:
        """True if the principal has one of `roles`, or is an API key holding `scope`."""
        if self.role is not None and self.role in roles:
            return True
        return self.api_key_id is not None and scope is not None and scope in self.scopes

    def require(self, roles: Collection[Role] = (), scope: Scope | None = None) -> None:
        if not self.may(roles, scope):
            raise PermissionDenied("you are not allowed to do this")

    def require_user(self) -> str:
        """The user id of a signed-in user; API keys have no cart or orders of their own."""
        if self.user_id is None:
            raise PermissionDenied("this action needs a signed-in user")
        return self.user_id
