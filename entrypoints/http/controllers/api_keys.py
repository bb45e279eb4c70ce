"""/api-keys: scoped keys for third-party programs (admins only)."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from application.api_keys import ApiKeys
from application.principal import Principal
from entrypoints.http.dependencies import Injected
from entrypoints.http.openapi_responses import problems
from entrypoints.http.schemas.api_keys import (
    ApiKeyPage,
    IssuedKey,
    NewApiKey,
    api_key_out,
    issued_key_out,
)
from entrypoints.http.schemas.common import Cursor, Limit, page_request
from entrypoints.http.security import USER_ONLY, admin_only


class ApiKeysController(Controller):
    path = "/api-keys"
    tags = ["api keys"]
    guards = [admin_only]
    security = USER_ONLY

    @post("/", status_code=201, responses=problems(401, 403, 413))
    async def create_key(
        self,
        data: JSONBody[NewApiKey],
        api_keys: Injected[ApiKeys],
        principal: Injected[Principal],
    ) -> IssuedKey:
        """Admins: issue a key. Its secret is in this response only."""
        issued = await api_keys.create(
            principal, name=data.name, scopes=[scope.value for scope in data.scopes]
        )
        return issued_key_out(issued)

    @get("/", responses=problems(401, 403))
    async def list_keys(
        self,
        api_keys: Injected[ApiKeys],
        principal: Injected[Principal],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> ApiKeyPage:
        """Admins: every key, without secrets."""
        page = await api_keys.list_keys(principal, page_request(limit, cursor))
        return ApiKeyPage(items=[api_key_out(k) for k in page.items], next_cursor=page.next_cursor)

    @delete("/{key_id:str}", status_code=204, responses=problems(401, 403, 404))
    async def revoke_key(
        self,
        key_id: FromPath[str],
        api_keys: Injected[ApiKeys],
        principal: Injected[Principal],
    ) -> None:
        """Admins: delete a key; it stops working at once."""
        await api_keys.revoke(principal, key_id)
