"""/users: the caller's own profile, and the administration of users."""

from __future__ import annotations

from litestar import Controller, get, patch
from litestar.params import FromPath, JSONBody

from application import users as accounts
from application.principal import Principal
from application.users import UserAccounts
from entrypoints.http.dependencies import Injected
from entrypoints.http.openapi_responses import problems
from entrypoints.http.schemas.common import Cursor, Limit, given, page_request
from entrypoints.http.schemas.users import (
    ProfileChanges,
    User,
    UserChanges,
    UserPage,
    user_out,
)
from entrypoints.http.security import USER_ONLY, admin_only, signed_in_user


class UsersController(Controller):
    path = "/users"
    tags = ["users"]
    security = USER_ONLY

    @get("/me", guards=[signed_in_user], responses=problems(401, 403))
    async def get_me(
        self, user_accounts: Injected[UserAccounts], principal: Injected[Principal]
    ) -> User:
        """A signed-in user: their own account."""
        return user_out(await user_accounts.get_me(principal))

    @patch("/me", guards=[signed_in_user], responses=problems(401, 403, 413))
    async def update_me(
        self,
        data: JSONBody[ProfileChanges],
        user_accounts: Injected[UserAccounts],
        principal: Injected[Principal],
    ) -> User:
        """A signed-in user: rename, and/or change the password with the current one (which
        signs out every other session)."""
        user = await user_accounts.update_me(
            principal,
            full_name=given(data.full_name),
            current_password=given(data.current_password),
            new_password=given(data.new_password),
        )
        return user_out(user)

    @get("/", guards=[admin_only], responses=problems(401, 403))
    async def list_users(
        self,
        user_accounts: Injected[UserAccounts],
        principal: Injected[Principal],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> UserPage:
        """Admins: every account, oldest first."""
        page = await user_accounts.list_users(principal, page_request(limit, cursor))
        return UserPage(items=[user_out(u) for u in page.items], next_cursor=page.next_cursor)

    @get("/{user_id:str}", guards=[admin_only], responses=problems(401, 403, 404))
    async def get_user(
        self,
        user_id: FromPath[str],
        user_accounts: Injected[UserAccounts],
        principal: Injected[Principal],
    ) -> User:
        """Admins: one account."""
        return user_out(await user_accounts.get_user(principal, user_id))

    @patch("/{user_id:str}", guards=[admin_only], responses=problems(401, 403, 404, 409, 413))
    async def change_user(
        self,
        user_id: FromPath[str],
        data: JSONBody[UserChanges],
        user_accounts: Injected[UserAccounts],
        principal: Injected[Principal],
    ) -> User:
        """Admins: change a role or (de)activate an account. A deactivated user cannot sign
        in and their tokens stop working at once."""
        changes = accounts.UserChanges(role=given(data.role), is_active=given(data.is_active))
        return user_out(await user_accounts.change_user(principal, user_id, changes))
