"""/auth: sign-up, sign-in, refresh with rotation, sign-out, password reset."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.datastructures import ResponseHeader
from litestar.params import JSONBody

from application.auth import Authentication
from application.credentials import refresh_token_family
from application.principal import Principal
from domain.errors import InvalidCredentials, InvalidToken, InvalidValue
from domain.values import Email
from entrypoints.http.dependencies import Injected
from entrypoints.http.openapi_responses import problems
from entrypoints.http.rate_limits import login_limits_of, rate_limits_of
from entrypoints.http.schemas.auth import (
    Login,
    PasswordResetConfirmation,
    PasswordResetRequest,
    RefreshRequest,
    Registration,
    Tokens,
    tokens_out,
)
from entrypoints.http.security import USER_ONLY, signed_in_user


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]
    # Token responses must never be cached (RFC 6749, section 5.1).
    response_headers = [ResponseHeader(name="Cache-Control", value="no-store")]

    @post("/register", status_code=201, responses=problems(409, 413))
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[Registration],
        authentication: Injected[Authentication],
    ) -> Tokens:
        """Anyone: create a customer account and sign it in. Limited per client IP and
        per email (429)."""
        await rate_limits_of(request).check_account_action("register", request, data.email)
        pair = await authentication.register(
            email=data.email, password=data.password, full_name=data.full_name
        )
        return tokens_out(pair)

    @post("/login", status_code=200, responses=problems(401, 413))
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[Login],
        authentication: Injected[Authentication],
    ) -> Tokens:
        """Anyone: sign in with email and password. Limited per client IP, and by failed
        attempts per email (429), so passwords cannot be guessed at speed, while someone
        else's wrong guesses cannot lock the owner out."""
        limits = login_limits_of(request)
        attempt = await limits.begin(request, data.email)
        try:
            pair = await authentication.login(email=data.email, password=data.password)
        except InvalidCredentials:
            await limits.failed(attempt)
            raise
        await limits.succeeded(attempt)
        return tokens_out(pair)

    @post("/refresh", status_code=200, responses=problems(401, 413))
    async def refresh(
        self, data: JSONBody[RefreshRequest], authentication: Injected[Authentication]
    ) -> Tokens:
        """Anyone: spend a refresh token for a new pair. Spending one twice revokes every
        token descended from the same sign-in."""
        return tokens_out(await authentication.refresh(data.refresh_token))

    @post(
        "/logout",
        status_code=204,
        guards=[signed_in_user],
        security=USER_ONLY,
        responses=problems(
            413,
            on_400="`refresh_token` is missing, of the wrong type or not a refresh token "
            "(`errors` names the field)",
            on_401="No, a malformed, expired or revoked access token (`WWW-Authenticate: "
            "Bearer`); the refresh token in the body never causes a 401",
            on_403="An API key: only a signed-in user can sign out",
        ),
    )
    async def logout(
        self,
        data: JSONBody[RefreshRequest],
        authentication: Injected[Authentication],
        principal: Injected[Principal],
    ) -> None:
        """A signed-in user: the refresh token (and its family) stops working."""
        try:
            refresh_token_family(data.refresh_token)
        except InvalidToken:
            # A 401 here would read as "your access token is bad"; it is the body.
            raise InvalidValue("refresh_token", "is not a refresh token") from None
        await authentication.logout(principal, data.refresh_token)

    @post("/password-reset", status_code=202, responses=problems(413))
    async def request_password_reset(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PasswordResetRequest],
        authentication: Injected[Authentication],
    ) -> None:
        """Anyone: email a one-time reset token. The answer is the same whether or not the
        email has an account. Limited per client IP and per email (429). A malformed
        address is 400, as everywhere: it names nobody, so that reveals nothing."""
        Email(data.email)
        await rate_limits_of(request).check_account_action("password_reset", request, data.email)
        await authentication.request_password_reset(data.email)

    @post("/password-reset/confirm", status_code=204, responses=problems(401, 413))
    async def confirm_password_reset(
        self,
        data: JSONBody[PasswordResetConfirmation],
        authentication: Injected[Authentication],
    ) -> None:
        """Anyone with a reset token: set a new password; every session is signed out."""
        await authentication.confirm_password_reset(
            token=data.token, new_password=data.new_password
        )
