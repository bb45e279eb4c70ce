"""Rate limits: sign-in, sign-up and password reset per client IP and per email, and one
general limit per client on every other request, counted by the `RateLimiter` port (in
process, or in Redis and then shared by every app process). A request over a limit is a
429 problem with `Retry-After`.

Sign-in is limited so that nobody can lock an account's owner out, while guessing stays
bounded (see `LoginLimits`):
- every attempt counts per client IP;
- only FAILED attempts count per account, and twice over: per account and client IP
  (over it, that client is refused for that account, right password or not), and per
  account from everywhere (over it, only clients the account signed in from before
  are still let in to try);
- both failure limits back off: `n` failures per window, then `2n` per 8 windows, `4n`
  per 64 windows and `8n` per 512 windows, so a patient guesser slows down
  geometrically.

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
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from application.ports.runtime import Cache, RateLimiter
from domain.errors import AuthenticationFailed, PermissionDenied
from domain.values import normalize_email
from entrypoints.http.errors import RateLimited
from entrypoints.http.security import authenticate
from entrypoints.http.state import container_from_app
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


def _client(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()[:16]


# How each failure limit backs off: (times the failures, times the window) per step.
BACK_OFF_STEPS = ((1, 1), (2, 8), (4, 64), (8, 512))
# A client that signed in to an account is "known" to it for this long.
KNOWN_CLIENT_FOR = timedelta(days=30)


def backing_off(name: str, failures: int, window_seconds: int) -> tuple[Limit, ...]:
    """The steps of one failure limit (none if `failures` is 0: no limit)."""
    if failures <= 0:
        return ()
    return tuple(
        Limit(f"{name}:{step}", failures * more, window_seconds * longer)
        for step, (more, longer) in enumerate(BACK_OFF_STEPS)
    )


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """One sign-in under way: whose failure counters it touches."""

    account: str
    account_and_client: str


class LoginLimits:
    """Sign-in limits that count only failures per account, so that an attacker's wrong
    guesses cannot lock the owner out:

    - per account and client IP: over it, this client gets 429 for this account, even
      with the right password (it is the one guessing);
    - per account from every client: over it, a client the account has never signed in
      from (within `KNOWN_CLIENT_FOR`) gets 429; one it has signed in from is still let
      in to try, under its own limit above. An owner on a new network during a
      distributed attack waits for `Retry-After` (or resets the password by email).

    Known clients are remembered in the cache (best effort: a cache outage only makes
    every client unknown, the cautious side).
    """

    def __init__(
        self,
        limits: RateLimits,
        cache: Cache,
        *,
        per_client: tuple[Limit, ...],
        per_account: tuple[Limit, ...],
    ) -> None:
        self._limits = limits
        self._cache = cache
        self._per_client = per_client
        self._per_account = per_account

    async def begin(
        self, connection: ASGIConnection[Any, Any, Any, Any], email: str
    ) -> LoginAttempt:
        """Count the attempt per IP and refuse it (429) if a failure limit is spent."""
        address = client_ip(connection.scope, self._limits.proxies)
        await self._limits.check(self._limits.by_ip["login"], address)
        account = _account(email)
        attempt = LoginAttempt(account, f"{account}:{_client(address)}")
        await self._limits.refuse_if_over(self._per_client, attempt.account_and_client)
        try:
            await self._limits.refuse_if_over(self._per_account, account)
        except RateLimited:
            if not await self._cache.get(self._known_key(attempt)):
                raise
        return attempt

    async def failed(self, attempt: LoginAttempt) -> None:
        await self._limits.count(self._per_client, attempt.account_and_client)
        await self._limits.count(self._per_account, attempt.account)

    async def succeeded(self, attempt: LoginAttempt) -> None:
        ttl = int(KNOWN_CLIENT_FOR.total_seconds())
        await self._cache.set(self._known_key(attempt), b"1", ttl)

    @staticmethod
    def _known_key(attempt: LoginAttempt) -> str:
        return f"login:known:{attempt.account_and_client}"


class RateLimits:
    """The limits of the settings, counted by `limiter`."""

    def __init__(self, limiter: RateLimiter, settings: Settings) -> None:
        self._limiter = limiter
        window = settings.rate_limits.window_seconds
        self.proxies = TrustedProxies(settings.http.trusted_proxies)
        self.general = Limit("general", settings.rate_limits.general_per_client, window)
        self.by_ip = {
            "login": Limit("login:ip", settings.rate_limits.login_per_ip, window),
            "register": Limit("register:ip", settings.rate_limits.register_per_ip, window),
            "password_reset": Limit(
                "password-reset:ip", settings.rate_limits.password_reset_per_ip, window
            ),
        }
        self.by_account = {
            "register": Limit(
                "register:account", settings.rate_limits.register_per_account, window
            ),
            "password_reset": Limit(
                "password-reset:account", settings.rate_limits.password_reset_per_account, window
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
            raise RateLimited(decision.retry_after_seconds, rule=limit.name)

    async def refuse_if_over(self, limits: Iterable[Limit], subject: str) -> None:
        """Raise RateLimited if `subject` has spent any of `limits`; counts nothing."""
        retry_after = 0
        refusing = "other"
        for limit in limits:
            decision = await self._limiter.peek(
                f"{limit.name}:{subject}", limit=limit.requests, window_seconds=limit.window_seconds
            )
            if not decision.allowed:
                retry_after = max(retry_after, decision.retry_after_seconds)
                refusing = limit.name
        if retry_after:
            raise RateLimited(retry_after, rule=refusing)

    async def count(self, limits: Iterable[Limit], subject: str) -> None:
        """Count one event of `subject` against each of `limits`."""
        for limit in limits:
            await self._limiter.hit(
                f"{limit.name}:{subject}", limit=limit.requests, window_seconds=limit.window_seconds
            )

    async def check_account_action(
        self, action: str, connection: ASGIConnection[Any, Any, Any, Any], email: str
    ) -> None:
        """`action` (register, password_reset) by this client IP, for `email`."""
        await self.check(self.by_ip[action], client_ip(connection.scope, self.proxies))
        await self.check(self.by_account[action], _account(email))


def rate_limits_of(connection: ASGIConnection[Any, Any, Any, Any]) -> RateLimits:
    container = container_from_app(connection.app)
    # Built per request from the container's (singleton) limiter, so that an override of
    # `container.rate_limiter` made after create_app still counts.
    return RateLimits(container.rate_limiter(), container.settings())


def login_limits_of(connection: ASGIConnection[Any, Any, Any, Any]) -> LoginLimits:
    container = container_from_app(connection.app)
    settings = container.settings()
    window = settings.rate_limits.window_seconds
    return LoginLimits(
        rate_limits_of(connection),
        container.cache(),
        per_client=backing_off(
            "login-failures:account-client", settings.rate_limits.login_per_account, window
        ),
        per_account=backing_off(
            "login-failures:account", settings.rate_limits.login_failures_per_account, window
        ),
    )


async def client_subject(connection: ASGIConnection[Any, Any, Any, Any], limits: RateLimits) -> str:
    """Whom a request counts against: its signed-in user or API key, else its client IP."""
    has_credentials = "authorization" in connection.headers or "x-api-key" in connection.headers
    if has_credentials:
        try:
            principal = await authenticate(connection)
        except (AuthenticationFailed, PermissionDenied):
            pass  # the guard answers 401/403 later; until then it is just an address
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
