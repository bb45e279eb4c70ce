"""Configuration: one `Settings` object read from `HEXMART_*` environment variables (and an
optional `.env` file), validated with one clear message per bad value.

Nothing is read at import time: call `Settings.from_env()` (or build `Settings(...)` directly
in tests). With nothing set, hexmart runs on the embedded default: a SQLite file, in-process
cache and queue, a local payment gateway, local file storage and emails written to a folder.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from domain.currencies import is_iso_4217

PREFIX = "HEXMART_"
# Where links point when HEXMART_PUBLIC_BASE_URL is not set and no server says where it
# listens (`hexmart serve` derives it from --host and --port).
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
# The page the app serves for people following a reset email's link (the token travels in
# the fragment, which browsers never send to a server or in a Referer).
PASSWORD_RESET_PAGE = "/password-reset"


class SettingsError(ValueError):
    """One or more settings are invalid; the message lists each, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True, kw_only=True)
class Settings:
    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("var")
    # How clients reach the shop (links in upload URLs, image URLs and emails). Unset:
    # where `hexmart serve` listens (--host, --port), else DEFAULT_PUBLIC_BASE_URL.
    public_base_url: str | None = None
    # The page a password-reset email links to, `{token}` standing for the token. Unset:
    # the app's own page, `<public base URL>/password-reset#token={token}`.
    password_reset_url: str | None = None
    shop_name: str = "hexmart"
    currency: str = "USD"

    database_url: str = "sqlite+aiosqlite:///hexmart.db"
    database_replica_url: str | None = None
    database_pool_size: int = 10
    database_max_overflow: int = 10
    database_pool_timeout: float = 10.0
    # Whether serve and worker apply pending migrations as they start. Unset: yes on the
    # embedded SQLite default (one command to start), no on PostgreSQL, where
    # `hexmart migrate` is a deploy step and an outdated schema stops the start-up.
    migrate_on_start: bool | None = None

    redis_url: str | None = None
    # One Redis per role once one is not enough; each unset one is `redis_url`. The queue
    # needs persistence and a single primary; the cache and rate limits are disposable (a
    # Redis Cluster is fine); refresh/reset tokens and live updates need a single primary.
    redis_queue_url: str | None = None
    redis_cache_url: str | None = None
    redis_live_url: str | None = None
    # HEXMART_REDIS_CACHE_URL names one node of a Redis Cluster (only that role may be one).
    redis_cache_cluster: bool = False

    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    stripe_webhook_tolerance_seconds: int = 300

    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    smtp_url: str | None = None
    email_from: str = "hexmart <no-reply@hexmart.local>"

    jwt_secret: str | None = None
    jwt_private_key_file: Path | None = None
    jwt_public_key_file: Path | None = None
    jwt_issuer: str = "hexmart"
    jwt_audience: str = "hexmart-api"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    password_reset_ttl_minutes: int = 60
    password_hashing: Literal["argon2id", "fast-insecure-for-tests"] = "argon2id"

    order_payment_timeout_minutes: int = 30
    payment_reconcile_after_minutes: int = 5

    # An outbox message enqueued this long ago and still not handled (the queue lost it, a
    # worker died with it) is enqueued again.
    outbox_redeliver_after_seconds: int = 300
    # /health/ready reports the outbox "degraded" once its oldest unhandled message is older.
    outbox_backlog_alert_seconds: int = 120

    admin_email: str | None = None
    admin_password: str | None = None

    cors_origins: tuple[str, ...] = ()
    # Addresses or networks (CIDR) of the reverse proxies in front of the app: only a peer
    # in this set may say who the client is (X-Forwarded-For).
    trusted_proxies: tuple[str, ...] = ()

    # Requests per client per `rate_limit_window_seconds`; 0 turns that one limit off.
    # Sign-in, sign-up and password reset are limited per client IP and per email.
    rate_limit_window_seconds: int = 60
    rate_limit_login_per_ip: int = 10
    # Sign-in counts only FAILED attempts per account: per account and client IP (over
    # it, that client is refused for that account), and per account from every client
    # (over it, only clients the account signed in from before may try). Both back off:
    # n per window, 2n per 8 windows, 4n per 64, 8n per 512.
    rate_limit_login_per_account: int = 5
    rate_limit_login_failures_per_account: int = 20
    rate_limit_register_per_ip: int = 10
    rate_limit_register_per_account: int = 5
    rate_limit_password_reset_per_ip: int = 5
    rate_limit_password_reset_per_account: int = 3
    # Every other route: per signed-in user or API key, else per client IP.
    rate_limit_general_per_client: int = 600

    # How often an open /ws/orders socket checks again that its access token is still
    # good (not expired, its user still active) and that it may still see the order.
    live_updates_recheck_seconds: int = 30

    # How long GET /products and GET /products/{id} answers are reused; product changes and
    # stock moved by orders invalidate them at once, so this only bounds a missed
    # invalidation (a cache outage, the CLI on the embedded default). 0: off.
    catalog_cache_ttl_seconds: int = 5
    max_request_body_bytes: int = 1024 * 1024
    upload_max_bytes: int = 10 * 1024 * 1024
    upload_content_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # One format for every log line of the process (app, uvicorn, arq, alembic, Stripe,
    # SQLAlchemy): `text` for a person, `json` (one object a line) for log collectors.
    log_format: Literal["text", "json"] = "text"
    # `hexmart worker` serves Prometheus metrics on this port (unset: none).
    worker_metrics_port: int | None = None
    # Unhandled errors go to this Sentry DSN (unset: nowhere).
    sentry_dsn: str | None = None
    # OpenTelemetry traces go to this OTLP/HTTP collector, e.g. http://collector:4318
    # (unset: no tracing at all).
    otel_endpoint: str | None = None

    # The local payment gateway (payments without Stripe): how long after its creation an
    # intent succeeds by itself, and how long a final intent is kept after its last change
    # (it can be refunded until then).
    local_payments_completion_seconds: float = 0.2
    local_payments_retention_days: int = 90
    # Set in tests only: the local payment gateway then waits for an explicit completion.
    local_payments_auto_complete: bool = True

    def __post_init__(self) -> None:
        problems = _check(self)
        if problems:
            raise SettingsError(problems)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
    ) -> Settings:
        """Read `HEXMART_*` variables from `environ` (default: os.environ), over the values
        in `env_file` if it exists. Unknown `HEXMART_*` names are an error (a typo would
        otherwise silently fall back to a default)."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update(_read_env_file(env_file))
        values.update(os.environ if environ is None else environ)
        return cls.from_mapping({k: v for k, v in values.items() if k.startswith(PREFIX)})

    @classmethod
    def from_mapping(cls, variables: Mapping[str, str]) -> Settings:
        hints = typing.get_type_hints(cls)
        known = {f.name for f in dataclasses.fields(cls)}
        problems: list[str] = []
        kwargs: dict[str, Any] = {}
        for name, raw in variables.items():
            attribute = name.removeprefix(PREFIX).lower()
            if attribute not in known:
                problems.append(f"{name}: unknown setting")
                continue
            try:
                kwargs[attribute] = _parse(hints[attribute], raw.strip())
            except ValueError as error:
                problems.append(f"{name}: {error}")
        try:
            settings = cls(**kwargs)
        except SettingsError as error:
            problems.extend(error.problems)
        if problems:
            # Parse errors and cross-field checks in one report, not one per start-up.
            raise SettingsError(problems)
        return settings

    @property
    def base_url(self) -> str:
        """The public base URL links are made from, without a trailing slash."""
        return (self.public_base_url or DEFAULT_PUBLIC_BASE_URL).rstrip("/")

    def served_at(self, host: str, port: int) -> Settings:
        """These settings for a server listening on `host`:`port`: unless
        HEXMART_PUBLIC_BASE_URL says otherwise, links point there."""
        if self.public_base_url is not None:
            return self
        return dataclasses.replace(self, public_base_url=listening_url(host, port))

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def migrates_on_start(self) -> bool:
        return self.uses_sqlite if self.migrate_on_start is None else self.migrate_on_start

    @property
    def uses_stripe(self) -> bool:
        return self.stripe_api_key is not None

    def redis_url_for(self, role: Literal["queue", "cache", "live"]) -> str | None:
        """The Redis of one role (`HEXMART_REDIS_<ROLE>_URL`, else `HEXMART_REDIS_URL`):
        the task queue, the cache and rate limits, or tokens and live order updates."""
        own: str | None = getattr(self, f"redis_{role}_url")
        return own or self.redis_url

    def describe_adapters(self) -> dict[str, str]:
        """Which adapter serves each port, for start-up logs (no secrets)."""
        return {
            "database": _redact(self.database_url),
            **(
                {"database replica (catalog listings)": _redact(self.database_replica_url)}
                if self.database_replica_url
                else {}
            ),
            "cache, rate limits, tokens, queue": "redis" if self.redis_url else "in-process",
            "payments": "stripe" if self.uses_stripe else "local gateway",
            "files": f"s3 bucket {self.s3_bucket}"
            if self.s3_bucket
            else f"folder {self.files_dir}, served at {self.base_url}/files",
            "email": "smtp" if self.smtp_url else f"folder {self.mail_dir}",
        }

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"


def listening_url(host: str, port: int) -> str:
    """The http:// URL of a server bound to `host`:`port`; a wildcard address (every
    interface) is reached on the loopback one."""
    wildcard = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104
    shown = wildcard.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, eq, value = text.removeprefix("export ").partition("=")
        if not eq:
            raise SettingsError([f"{path}:{number}: expected NAME=value"])
        values[name.strip()] = value.strip().strip("'\"")
    return values


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse(hint: Any, raw: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if raw == "":
            return None
        inner = [a for a in args if a is not type(None)]
        return _parse(inner[0], raw)
    if origin is Literal:
        if raw not in args:
            raise ValueError(f"must be one of {', '.join(map(str, args))} (got {raw!r})")
        return raw
    if origin is tuple:
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    if hint is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ValueError(f"must be true or false (got {raw!r})")
    if hint is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"must be a whole number (got {raw!r})") from None
    if hint is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"must be a number (got {raw!r})") from None
    if hint is Path:
        return Path(raw)
    return raw


def _check(s: Settings) -> list[str]:
    problems: list[str] = []

    def bad(name: str, message: str) -> None:
        problems.append(f"{PREFIX}{name.upper()}: {message}")

    scheme = s.database_url.split("://", 1)[0]
    if scheme not in ("sqlite+aiosqlite", "postgresql+psycopg", "postgresql"):
        bad("database_url", "must start with sqlite+aiosqlite:// or postgresql+psycopg://")
    if s.database_replica_url and not s.database_replica_url.startswith("postgresql"):
        bad("database_replica_url", "must be a postgresql+psycopg:// URL")
    for name in (
        "database_pool_size",
        "access_token_ttl_seconds",
        "refresh_token_ttl_days",
        "password_reset_ttl_minutes",
        "order_payment_timeout_minutes",
        "payment_reconcile_after_minutes",
        "max_request_body_bytes",
        "upload_max_bytes",
        "stripe_webhook_tolerance_seconds",
        "live_updates_recheck_seconds",
        "local_payments_retention_days",
        "outbox_redeliver_after_seconds",
        "outbox_backlog_alert_seconds",
    ):
        if getattr(s, name) <= 0:
            bad(name, "must be positive")
    if not 0 <= s.local_payments_completion_seconds <= 3600:
        bad("local_payments_completion_seconds", "must be between 0 and 3600")
    if s.worker_metrics_port is not None and not 1 <= s.worker_metrics_port <= 65535:
        bad("worker_metrics_port", "must be a TCP port (1..65535)")
    if s.sentry_dsn is not None and urlsplit(s.sentry_dsn).scheme not in ("http", "https"):
        bad("sentry_dsn", "must be an http(s):// Sentry DSN")
    if s.otel_endpoint is not None and urlsplit(s.otel_endpoint).scheme not in ("http", "https"):
        bad("otel_endpoint", "must be an http(s):// OTLP/HTTP collector URL")
    if s.database_max_overflow < 0:
        bad("database_max_overflow", "must not be negative")
    if s.rate_limit_window_seconds <= 0:
        bad("rate_limit_window_seconds", "must be positive")
    for field in dataclasses.fields(s):
        if (
            field.name.startswith("rate_limit_") or field.name == "catalog_cache_ttl_seconds"
        ) and getattr(s, field.name) < 0:
            bad(field.name, "must not be negative (0 turns it off)")
    for proxy in s.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            bad("trusted_proxies", f"{proxy!r} is not an IP address or network (CIDR)")
    for name in ("redis_url", "redis_queue_url", "redis_cache_url", "redis_live_url"):
        url = getattr(s, name)
        if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            bad(name, "must be a redis://, rediss:// or unix:// URL")
        elif url and not s.redis_url:
            bad(name, "needs HEXMART_REDIS_URL too (the Redis of every role not set apart)")
    if s.redis_cache_cluster and not s.redis_cache_url:
        bad("redis_cache_cluster", "needs HEXMART_REDIS_CACHE_URL (a node of the cluster)")
    if bool(s.stripe_api_key) != bool(s.stripe_webhook_secret):
        bad(
            "stripe_webhook_secret",
            "HEXMART_STRIPE_API_KEY and HEXMART_STRIPE_WEBHOOK_SECRET must be set together",
        )
    if s.smtp_url and urlsplit(s.smtp_url).scheme not in ("smtp", "smtps"):
        bad("smtp_url", "must be smtp://[user:password@]host[:port] or smtps://...")
    if s.jwt_secret is not None and len(s.jwt_secret.encode()) < 32:
        bad(
            "jwt_secret",
            "must be at least 32 bytes (use: python -c "
            "'import secrets; print(secrets.token_urlsafe(48))')",
        )
    if bool(s.jwt_private_key_file) != bool(s.jwt_public_key_file):
        bad("jwt_public_key_file", "private and public key files go together")
    if s.jwt_secret and s.jwt_private_key_file:
        bad("jwt_secret", "set either a secret (HS256) or a key pair (RS256/EdDSA), not both")
    if (
        not s.uses_sqlite
        and s.environment == "production"
        and not (s.jwt_secret or s.jwt_private_key_file)
    ):
        bad("jwt_secret", "is required in production (every app process must share it)")
    if s.environment == "production" and s.password_hashing != "argon2id":
        bad("password_hashing", "must be argon2id in production")
    if (s.admin_email is None) != (s.admin_password is None):
        bad("admin_password", "HEXMART_ADMIN_EMAIL and HEXMART_ADMIN_PASSWORD go together")
    if not is_iso_4217(s.currency):
        bad("currency", "must be a current ISO 4217 currency code in capitals, such as USD")
    if "*" in s.cors_origins:
        bad("cors_origins", "list the allowed origins; '*' is not allowed with credentials")
    if s.public_base_url is not None and not _is_web_url(s.public_base_url):
        bad("public_base_url", "must be an http:// or https:// URL with a host")
    if s.password_reset_url is not None:
        if not _is_web_url(s.password_reset_url):
            bad("password_reset_url", "must be an http:// or https:// URL with a host")
        if "{token}" not in s.password_reset_url:
            bad(
                "password_reset_url",
                "must contain {token} where the reset token goes "
                "(e.g. https://shop.example/reset-password#token={token})",
            )
    return problems


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
