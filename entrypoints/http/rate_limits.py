"""Rate limits: sign-in, sign-up and password reset per client IP and per email, and one
general limit per client on every other request, counted by the `RateLimiter` port (in
process, or in Redis and then shared by every app process). A request over a limit is a
429 problem with `Retry-After`.

Who the client is:
- a signed-in user or an API key is counted as itself (wherever it connects from);
- anyone else by IP address: the socket peer, or, when the peer is one of
  `HEXMART_TRUSTED_PROXIES`, the right-most X-Forwarded-For address that is not itself a
  trusted proxy. Addresses left of that one were written by the client and are never
  believed, so rotating X-Forwarded-For from an untrusted host changes nothing.

WebSocket connections (/ws/orders/{id}) count against the general limit when they
connect (see entrypoints/http/live_orders.py); messages on an open socket do not.

Not limited: /health/*, /metrics (probes and scrapers poll them) and /webhooks/stripe
(Stripe's retries must always get through; its signature is its gate).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from application.ports.runtime import RateLimiter
from domain.errors import AuthenticationFailed
from domain.values import normalize_email
from entrypoints.http.errors import RateLimited
from entrypoints.http.security import authenticate
from entrypoints.http.state import container_of
from entrypoints.settings import Settings

UNLIMITED_PATHS = ("/health/", "/metrics", "/webhooks/stripe")

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `requests` per `window_seconds` per subject; 0 requests means no limit."""

    name: str
    requests: int
    window_seconds: int


class TrustedProxies:
    def __init__(self, entries: Iterable[str]) -> None:
        self._networks: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(entry, strict=False) for entry in entries
        )

    def __bool__(self) -> bool:
        return bool(self._networks)

    def trust(self, address: str) -> bool:
        ip = _parse_ip(address)
        return ip is not None and any(ip in network for network in self._networks)


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_ip(scope: Scope, proxies: TrustedProxies) -> str:
    """The client's IP address as far as it can be trusted (see the module docstring)."""
    peer = scope.get("client")
    address = str(peer[0]) if peer else "unknown"
    if not proxies or not proxies.trust(address):
        return address
    forwarded: list[str] = []
    for name, value in scope.get("headers", ()):
        if name.lower() == b"x-forwarded-for":
            forwarded.extend(item.strip() for item in value.decode("latin-1").split(","))
    for hop in reversed([item for item in forwarded if item]):
        if not proxies.trust(hop):
            # Written by a proxy we trust; what it says about its peer goes, even if odd.
            ip = _parse_ip(hop)
            return str(ip) if ip is not None else hop[:64]
        address = hop
    # Every hop is a trusted proxy: the request started inside; count the first of them.
    return address


def _account(email: str) -> str:
    # Emails stay out of the limiter's keys (Redis is no place for personal data).
    # Counted by the address's normal form: look-alike spellings are one account.
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]


class RateLimits:
    """The limits of the settings, counted by `limiter`."""

    def __init__(self, limiter: RateLimiter, settings: Settings) -> None:
        self._limiter = limiter
        window = settings.rate_limit_window_seconds
        self.proxies = TrustedProxies(settings.trusted_proxies)
        self.general = Limit("general", settings.rate_limit_general_per_client, window)
        self.by_ip = {
            "login": Limit("login:ip", settings.rate_limit_login_per_ip, window),
            "register": Limit("register:ip", settings.rate_limit_register_per_ip, window),
            "password_reset": Limit(
                "password-reset:ip", settings.rate_limit_password_reset_per_ip, window
            ),
        }
        self.by_account = {
            "login": Limit("login:account", settings.rate_limit_login_per_account, window),
            "register": Limit("register:account", settings.rate_limit_register_per_account, window),
            "password_reset": Limit(
                "password-reset:account", settings.rate_limit_password_reset_per_account, window
            ),
        }

    async def check(self, limit: Limit, subject: str) -> None:
        """Count one request of `subject` against `limit`; raises RateLimited (429)."""
        if limit.requests <= 0:
            return
        decision = await self._limiter.hit(
            f"{limit.name}:{subject}", limit=limit.requests, window_seconds=limit.window_seconds
        )
        if not decision.allowed:
            raise RateLimited(decision.retry_after_seconds)

    async def check_account_action(
        self, action: str, connection: ASGIConnection[Any, Any, Any, Any], email: str
    ) -> None:
        """`action` (login, register, password_reset) by this client IP, for `email`."""
        await self.check(self.by_ip[action], client_ip(connection.scope, self.proxies))
        await self.check(self.by_account[action], _account(email))


def rate_limits_of(connection: ASGIConnection[Any, Any, Any, Any]) -> RateLimits:
    container = container_of(connection.app)
    # Built per request from the container's (singleton) limiter, so that an override of
    # `container.rate_limiter` made after create_app still counts.
    return RateLimits(container.rate_limiter(), container.settings())


async def client_subject(connection: ASGIConnection[Any, Any, Any, Any], limits: RateLimits) -> str:
    """Whom a request counts against: its signed-in user or API key, else its client IP."""
    has_credentials = "authorization" in connection.headers or "x-api-key" in connection.headers
    if has_credentials:
        try:
            principal = await authenticate(connection)
        except AuthenticationFailed:
            pass  # the guard answers 401 later; until then it is just an address
        else:
            if principal.user_id is not None:
                return f"user:{principal.user_id}"
            if principal.api_key_id is not None:
                return f"key:{principal.api_key_id}"
    return f"ip:{client_ip(connection.scope, limits.proxies)}"


class GeneralRateLimitMiddleware(ASGIMiddleware):
    """The per-client limit on every HTTP request but UNLIMITED_PATHS."""

    scopes = (ScopeType.HTTP,)

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:  # type: ignore[override]
        return str(scope["path"]).startswith(UNLIMITED_PATHS)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope, receive)
        limits = rate_limits_of(connection)
        if limits.general.requests > 0:
            await limits.check(limits.general, await client_subject(connection, limits))
        await next_app(scope, receive, send)
