"""Configuration: one `Settings` object read from `HEXMART_*` environment variables (and an
optional `.env` file), validated with one clear message per bad value.

The settings come in sections (`settings.database`, `settings.redis`, `settings.payments`,
...), each a frozen dataclass; every field is read from exactly one variable, named in
`VARIABLES` (most are the section's prefix and the field's name: `database.pool_size` is
HEXMART_DATABASE_POOL_SIZE). Nothing is read at import time: call `Settings.from_env()`, or
build `Settings(...)` (or `Settings.from_values(database_pool_size=...)`-style, see `from_values`)
directly in tests. With nothing set, hexmart runs on the embedded default: a SQLite file,
in-process cache and queue, a local payment gateway, local file storage and emails written
to a folder.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal
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


def _named(default: Any, variable: str) -> Any:
    """A field read from HEXMART_<variable> rather than from its section's prefix + name."""
    return field(default=default, metadata={"variable": variable})


@dataclass(frozen=True, kw_only=True)
class ShopSettings:
    VARIABLE_PREFIX: ClassVar[str] = ""

    name: str = _named("hexmart", "SHOP_NAME")
    currency: str = "USD"
    # How clients reach the shop (links in upload URLs, image URLs and emails). Unset:
    # where `hexmart serve` listens (--host, --port), else DEFAULT_PUBLIC_BASE_URL.
    public_base_url: str | None = None
    # The page a password-reset email links to, `{token}` standing for the token. Unset:
    # the app's own page, `<public base URL>/password-reset#token={token}`.
    password_reset_url: str | None = None

    @property
    def base_url(self) -> str:
        """The public base URL links are made from, without a trailing slash."""
        return (self.public_base_url or DEFAULT_PUBLIC_BASE_URL).rstrip("/")


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings:
    VARIABLE_PREFIX: ClassVar[str] = "DATABASE_"

    url: str = "sqlite+aiosqlite:///hexmart.db"
    replica_url: str | None = None
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 10.0
    # Whether serve and worker apply pending migrations as they start. Unset: yes on the
    # embedded SQLite default (one command to start), no on PostgreSQL, where
    # `hexmart migrate` is a deploy step and an outdated schema stops the start-up.
    migrate_on_start: bool | None = _named(None, "MIGRATE_ON_START")

    @property
    def uses_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def migrates_on_start(self) -> bool:
        return self.uses_sqlite if self.migrate_on_start is None else self.migrate_on_start


@dataclass(frozen=True, kw_only=True)
class RedisSettings:
    VARIABLE_PREFIX: ClassVar[str] = "REDIS_"

    url: str | None = None
    # One Redis per role once one is not enough; each unset one is `url`. The queue needs
    # persistence and a single primary; the cache and rate limits are disposable (a Redis
    # Cluster is fine); refresh/reset tokens and live updates need a single primary.
    queue_url: str | None = None
    cache_url: str | None = None
    live_url: str | None = None
    # HEXMART_REDIS_CACHE_URL names one node of a Redis Cluster (only that role may be one).
    cache_cluster: bool = False

    def url_for(self, role: Literal["queue", "cache", "live"]) -> str | None:
        """The Redis of one role (`HEXMART_REDIS_<ROLE>_URL`, else `HEXMART_REDIS_URL`):
        the task queue, the cache and rate limits, or tokens and live order updates."""
        own: str | None = getattr(self, f"{role}_url")
        return own or self.url


@dataclass(frozen=True, kw_only=True)
class PaymentSettings:
    VARIABLE_PREFIX: ClassVar[str] = ""

    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    stripe_webhook_tolerance_seconds: int = 300
    order_timeout_minutes: int = _named(30, "ORDER_PAYMENT_TIMEOUT_MINUTES")
    reconcile_after_minutes: int = _named(5, "PAYMENT_RECONCILE_AFTER_MINUTES")
    # The local payment gateway (payments without Stripe): how long after its creation an
    # intent succeeds by itself, and how long a final intent is kept after its last change
    # (it can be refunded until then).
    local_completion_seconds: float = _named(0.2, "LOCAL_PAYMENTS_COMPLETION_SECONDS")
    local_retention_days: int = _named(90, "LOCAL_PAYMENTS_RETENTION_DAYS")
    # False: the local gateway's intents wait for an explicit completion (tests, and
    # benchmarks that must not pay).
    local_auto_complete: bool = _named(True, "LOCAL_PAYMENTS_AUTO_COMPLETE")

    @property
    def uses_stripe(self) -> bool:
        return self.stripe_api_key is not None


@dataclass(frozen=True, kw_only=True)
class FileSettings:
    VARIABLE_PREFIX: ClassVar[str] = ""

    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    upload_max_bytes: int = 10 * 1024 * 1024
    upload_content_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")


@dataclass(frozen=True, kw_only=True)
class EmailSettings:
    VARIABLE_PREFIX: ClassVar[str] = ""

    smtp_url: str | None = None
    sender: str = _named("hexmart <no-reply@hexmart.local>", "EMAIL_FROM")


@dataclass(frozen=True, kw_only=True)
class AuthSettings:
    VARIABLE_PREFIX: ClassVar[str] = ""

    jwt_secret: str | None = None
    jwt_private_key_file: Path | None = None
    jwt_public_key_file: Path | None = None
    jwt_issuer: str = "hexmart"
    jwt_audience: str = "hexmart-api"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    password_reset_ttl_minutes: int = 60
    # The first administrator, created at start-up if missing.
    admin_email: str | None = None
    admin_password: str | None = None


@dataclass(frozen=True, kw_only=True)
class RateLimitSettings:
    """Requests per client per `window_seconds`; 0 turns that one limit off. Sign-in,
    sign-up and password reset are limited per client IP and per email."""

    VARIABLE_PREFIX: ClassVar[str] = "RATE_LIMIT_"

    window_seconds: int = 60
    login_per_ip: int = 10
    # Sign-in counts only FAILED attempts per account: per account and client IP (over
    # it, that client is refused for that account), and per account from every client
    # (over it, only clients the account signed in from before may try). Both back off:
    # n per window, 2n per 8 windows, 4n per 64, 8n per 512.
    login_per_account: int = 5
    login_failures_per_account: int = 20
    register_per_ip: int = 10
    register_per_account: int = 5
    password_reset_per_ip: int = 5
    password_reset_per_account: int = 3
    # Every other route: per signed-in user or API key, else per client IP.
    general_per_client: int = 600


@dataclass(frozen=True, kw_only=True)
class HttpSettings:
    VARIABLE_PREFIX: ClassVar[str] = ""

    cors_origins: tuple[str, ...] = ()
    # Addresses or networks (CIDR) of the reverse proxies in front of the app: only a peer
    # in this set may say who the client is (X-Forwarded-For).
    trusted_proxies: tuple[str, ...] = ()
    max_request_body_bytes: int = 1024 * 1024
    # How long GET /products and GET /products/{id} answers are reused; product changes and
    # stock moved by orders invalidate them at once, so this only bounds a missed
    # invalidation (a cache outage, the CLI on the embedded default). 0: off.
    catalog_cache_ttl_seconds: int = 5
    # How often an open /ws/orders socket checks again that its access token is still
    # good (not expired, its user still active) and that it may still see the order.
    live_updates_recheck_seconds: int = 30


@dataclass(frozen=True, kw_only=True)
class OutboxSettings:
    VARIABLE_PREFIX: ClassVar[str] = "OUTBOX_"

    # A message enqueued this long ago and still not handled (the queue lost it, a worker
    # died with it) is enqueued again.
    redeliver_after_seconds: int = 300
    # /health/ready reports the outbox "degraded" once its oldest unhandled message is older.
    backlog_alert_seconds: int = 120


@dataclass(frozen=True, kw_only=True)
class ObservabilitySettings:
    VARIABLE_PREFIX: ClassVar[str] = ""

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


Section = (
    ShopSettings
    | DatabaseSettings
    | RedisSettings
    | PaymentSettings
    | FileSettings
    | EmailSettings
    | AuthSettings
    | RateLimitSettings
    | HttpSettings
    | OutboxSettings
    | ObservabilitySettings
)


@dataclass(frozen=True, kw_only=True)
class Settings:
    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("var")
    shop: ShopSettings = ShopSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    payments: PaymentSettings = PaymentSettings()
    files: FileSettings = FileSettings()
    email: EmailSettings = EmailSettings()
    auth: AuthSettings = AuthSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    http: HttpSettings = HttpSettings()
    outbox: OutboxSettings = OutboxSettings()
    observability: ObservabilitySettings = ObservabilitySettings()

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
        """Settings from `HEXMART_*` variables given as text."""
        problems: list[str] = []
        values: dict[str, Any] = {}
        for name, raw in variables.items():
            variable = VARIABLES.get(name)
            if variable is None:
                problems.append(f"{name}: unknown setting")
                continue
            try:
                values[variable.key] = _parse(variable.hint, raw.strip())
            except ValueError as error:
                problems.append(f"{name}: {error}")
        try:
            settings = cls().replace(**values)
        except SettingsError as error:
            problems.extend(error.problems)
        if problems:
            # Parse errors and cross-field checks in one report, not one per start-up.
            raise SettingsError(problems)
        return settings

    @classmethod
    def from_values(cls, **values: Any) -> Settings:
        """Settings from typed values named as their variables, lowercase and without the
        prefix: `Settings.from_values(redis_url="redis://cache", rate_limit_login_per_ip=3)`."""
        return cls().replace(**values)

    def replace(self, **values: Any) -> Settings:
        """These settings with some values changed, named as in `from_values`."""
        unknown = [key for key in values if PREFIX + key.upper() not in VARIABLES]
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        top: dict[str, Any] = {}
        by_section: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            variable = VARIABLES[PREFIX + key.upper()]
            if variable.section is None:
                top[variable.attribute] = value
            else:
                by_section.setdefault(variable.section, {})[variable.attribute] = value
        for section, changes in by_section.items():
            top[section] = dataclasses.replace(getattr(self, section), **changes)
        return dataclasses.replace(self, **top)

    @property
    def base_url(self) -> str:
        """The public base URL links are made from, without a trailing slash."""
        return self.shop.base_url

    def served_at(self, host: str, port: int) -> Settings:
        """These settings for a server listening on `host`:`port`: unless
        HEXMART_PUBLIC_BASE_URL says otherwise, links point there."""
        if self.shop.public_base_url is not None:
            return self
        return self.replace(public_base_url=listening_url(host, port))

    def describe_adapters(self) -> dict[str, str]:
        """Which adapter serves each port, for start-up logs (no secrets)."""
        database = self.database
        return {
            "database": _redact(database.url),
            **(
                {"database replica (catalog listings)": _redact(database.replica_url)}
                if database.replica_url
                else {}
            ),
            "cache, rate limits, tokens, queue": "redis" if self.redis.url else "in-process",
            "payments": "stripe" if self.payments.uses_stripe else "local gateway",
            "files": f"s3 bucket {self.files.s3_bucket}"
            if self.files.s3_bucket
            else f"folder {self.files_dir}, served at {self.base_url}/files",
            "email": "smtp" if self.email.smtp_url else f"folder {self.mail_dir}",
        }

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"


@dataclass(frozen=True)
class Variable:
    """One `HEXMART_*` variable and the settings field it fills."""

    name: str
    section: str | None  # None: a field of Settings itself
    attribute: str
    hint: Any

    @property
    def key(self) -> str:
        """The name `Settings.from_values` and `Settings.replace` know it by."""
        return self.name.removeprefix(PREFIX).lower()


def _variables() -> dict[str, Variable]:
    table: dict[str, Variable] = {}
    hints = typing.get_type_hints(Settings)
    for top in dataclasses.fields(Settings):
        section_type = hints[top.name]
        if not dataclasses.is_dataclass(section_type):
            name = PREFIX + top.name.upper()
            table[name] = Variable(name, None, top.name, hints[top.name])
            continue
        section_hints = typing.get_type_hints(section_type)
        for item in dataclasses.fields(section_type):
            prefix: str = getattr(section_type, "VARIABLE_PREFIX")  # noqa: B009
            suffix = item.metadata.get("variable") or prefix + item.name.upper()
            name = PREFIX + suffix
            if name in table:
                raise AssertionError(f"{name} would fill two settings")
            table[name] = Variable(name, top.name, item.name, section_hints[item.name])
    return table


# Every HEXMART_* variable hexmart reads, by name.
VARIABLES: Mapping[str, Variable] = types.MappingProxyType(_variables())


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

    db, redis, pay, auth = s.database, s.redis, s.payments, s.auth
    scheme = db.url.split("://", 1)[0]
    if scheme not in ("sqlite+aiosqlite", "postgresql+psycopg", "postgresql"):
        bad("database_url", "must start with sqlite+aiosqlite:// or postgresql+psycopg://")
    if db.replica_url and not db.replica_url.startswith("postgresql"):
        bad("database_replica_url", "must be a postgresql+psycopg:// URL")
    for name, value in (
        ("database_pool_size", db.pool_size),
        ("access_token_ttl_seconds", auth.access_token_ttl_seconds),
        ("refresh_token_ttl_days", auth.refresh_token_ttl_days),
        ("password_reset_ttl_minutes", auth.password_reset_ttl_minutes),
        ("order_payment_timeout_minutes", pay.order_timeout_minutes),
        ("payment_reconcile_after_minutes", pay.reconcile_after_minutes),
        ("max_request_body_bytes", s.http.max_request_body_bytes),
        ("upload_max_bytes", s.files.upload_max_bytes),
        ("stripe_webhook_tolerance_seconds", pay.stripe_webhook_tolerance_seconds),
        ("live_updates_recheck_seconds", s.http.live_updates_recheck_seconds),
        ("local_payments_retention_days", pay.local_retention_days),
        ("outbox_redeliver_after_seconds", s.outbox.redeliver_after_seconds),
        ("outbox_backlog_alert_seconds", s.outbox.backlog_alert_seconds),
    ):
        if value <= 0:
            bad(name, "must be positive")
    if not 0 <= pay.local_completion_seconds <= 3600:
        bad("local_payments_completion_seconds", "must be between 0 and 3600")
    observability = s.observability
    port = observability.worker_metrics_port
    if port is not None and not 1 <= port <= 65535:
        bad("worker_metrics_port", "must be a TCP port (1..65535)")
    sentry_dsn = observability.sentry_dsn
    if sentry_dsn is not None and urlsplit(sentry_dsn).scheme not in ("http", "https"):
        bad("sentry_dsn", "must be an http(s):// Sentry DSN")
    otel = observability.otel_endpoint
    if otel is not None and urlsplit(otel).scheme not in ("http", "https"):
        bad("otel_endpoint", "must be an http(s):// OTLP/HTTP collector URL")
    if db.max_overflow < 0:
        bad("database_max_overflow", "must not be negative")
    if s.rate_limits.window_seconds <= 0:
        bad("rate_limit_window_seconds", "must be positive")
    for item in dataclasses.fields(s.rate_limits):
        if getattr(s.rate_limits, item.name) < 0:
            bad(f"rate_limit_{item.name}", "must not be negative (0 turns it off)")
    if s.http.catalog_cache_ttl_seconds < 0:
        bad("catalog_cache_ttl_seconds", "must not be negative (0 turns it off)")
    for proxy in s.http.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            bad("trusted_proxies", f"{proxy!r} is not an IP address or network (CIDR)")
    for role in ("", "queue_", "cache_", "live_"):
        url = getattr(redis, f"{role}url")
        name = f"redis_{role}url"
        if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            bad(name, "must be a redis://, rediss:// or unix:// URL")
        elif url and not redis.url:
            bad(name, "needs HEXMART_REDIS_URL too (the Redis of every role not set apart)")
    if redis.cache_cluster and not redis.cache_url:
        bad("redis_cache_cluster", "needs HEXMART_REDIS_CACHE_URL (a node of the cluster)")
    if bool(pay.stripe_api_key) != bool(pay.stripe_webhook_secret):
        bad(
            "stripe_webhook_secret",
            "HEXMART_STRIPE_API_KEY and HEXMART_STRIPE_WEBHOOK_SECRET must be set together",
        )
    smtp_url = s.email.smtp_url
    if smtp_url and urlsplit(smtp_url).scheme not in ("smtp", "smtps"):
        bad("smtp_url", "must be smtp://[user:password@]host[:port] or smtps://...")
    if auth.jwt_secret is not None and len(auth.jwt_secret.encode()) < 32:
        bad(
            "jwt_secret",
            "must be at least 32 bytes (use: python -c "
            "'import secrets; print(secrets.token_urlsafe(48))')",
        )
    if bool(auth.jwt_private_key_file) != bool(auth.jwt_public_key_file):
        bad("jwt_public_key_file", "private and public key files go together")
    if auth.jwt_secret and auth.jwt_private_key_file:
        bad("jwt_secret", "set either a secret (HS256) or a key pair (RS256/EdDSA), not both")
    if (
        not db.uses_sqlite
        and s.environment == "production"
        and not (auth.jwt_secret or auth.jwt_private_key_file)
    ):
        bad("jwt_secret", "is required in production (every app process must share it)")
    if (auth.admin_email is None) != (auth.admin_password is None):
        bad("admin_password", "HEXMART_ADMIN_EMAIL and HEXMART_ADMIN_PASSWORD go together")
    shop = s.shop
    if not is_iso_4217(shop.currency):
        bad("currency", "must be a current ISO 4217 currency code in capitals, such as USD")
    if "*" in s.http.cors_origins:
        bad("cors_origins", "list the allowed origins; '*' is not allowed with credentials")
    if shop.public_base_url is not None and not _is_web_url(shop.public_base_url):
        bad("public_base_url", "must be an http:// or https:// URL with a host")
    if shop.password_reset_url is not None:
        if not _is_web_url(shop.password_reset_url):
            bad("password_reset_url", "must be an http:// or https:// URL with a host")
        if "{token}" not in shop.password_reset_url:
            bad(
                "password_reset_url",
                "must contain {token} where the reset token goes "
                "(e.g. https://shop.example/reset-password#token={token})",
            )
    return problems


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
