"""Who is calling: `Authorization: Bearer <access JWT>` or `X-API-Key: <key>` becomes a
`Principal`, and guards let through exactly who the contract names.

Guards run before the body is read, so an anonymous or unauthorised caller learns
nothing about a route's input. The use cases check the same rules again themselves (and
decide ownership, which is a 404, not a 403), so the guards are a first line, not the only
one.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityRequirement, SecurityScheme
from litestar.types import Guard

from application.principal import Principal
from domain.errors import AuthenticationFailed, PermissionDenied
from domain.users import Role, Scope
from entrypoints.http.state import container_from_app

_PRINCIPAL_KEY = "hexmart.principal"

ALL_ROLES = frozenset(Role)
STAFF = frozenset({Role.STAFF, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})

BEARER_SCHEME = "bearerAuth"
API_KEY_SCHEME = "apiKey"
SECURITY_SCHEMES = {
    BEARER_SCHEME: SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="An access token from /auth/login, /auth/register or /auth/refresh.",
    ),
    API_KEY_SCHEME: SecurityScheme(
        type="apiKey",
        name="X-API-Key",
        security_scheme_in="header",
        description="A scoped key from POST /api-keys; it acts with exactly its scopes.",
    ),
}
USER_ONLY: list[SecurityRequirement] = [{BEARER_SCHEME: []}]
USER_OR_API_KEY: list[SecurityRequirement] = [{BEARER_SCHEME: []}, {API_KEY_SCHEME: []}]


def principal_in(scope: Any) -> Principal | None:
    """The principal this request authenticated as, if it did (for the access log)."""
    principal = scope.get("state", {}).get(_PRINCIPAL_KEY)
    return principal if isinstance(principal, Principal) else None


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The caller's principal (once per request); raises AuthenticationFailed (401)."""
    state = connection.scope.setdefault("state", {})
    cached = state.get(_PRINCIPAL_KEY)
    if isinstance(cached, Principal):
        return cached
    authorization = connection.headers.get("authorization")
    api_key = connection.headers.get("x-api-key")
    authentication = container_from_app(connection.app).authentication()
    if authorization is not None and api_key is not None:
        raise AuthenticationFailed("send either a bearer token or an API key, not both")
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        principal = await authentication.authenticate_access_token(token.strip())
    elif api_key is not None:
        principal = await authentication.authenticate_api_key(api_key.strip())
    else:
        raise AuthenticationFailed(
            "authentication required: send 'Authorization: Bearer <token>' or 'X-API-Key'"
        )
    state[_PRINCIPAL_KEY] = principal
    return principal


def allow(roles: Collection[Role], scope: Scope | None = None) -> Guard:
    """A guard admitting users with one of `roles`, and API keys holding `scope`."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await authenticate(connection)
        if not principal.may(roles, scope):
            if principal.user_id is None and scope is None:
                raise PermissionDenied("this action needs a signed-in user, not an API key")
            raise PermissionDenied("you are not allowed to do this")

    return guard


signed_in_user = allow(ALL_ROLES)
staff_only = allow(STAFF)
admin_only = allow(ADMIN)
