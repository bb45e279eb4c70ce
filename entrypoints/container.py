"""The one place that decides which adapter serves which port.

`build_container(settings)` returns a dependency-injector container whose provider names
are the same whatever adapters the settings choose, so tests and embedding programs can
`container.<name>.override(...)` any of them. Nothing is built until first asked for.

Each port's adapter follows from the settings, independently:
- database: SQLite (the embedded default) or PostgreSQL, by `database_url`;
- cache, rate limits, refresh tokens, task queue, live order updates: Redis + arq when
  `redis_url` is set, else in-process;
- payments: Stripe when `stripe_api_key` is set, else the local gateway;
- email: SMTP when `smtp_url` is set, else `.eml` files in the data folder;
- files (uploads, product images): S3 when `s3_bucket` is set, else a folder in the data
  folder, served by the app at `<public_base_url>/files` through signed URLs.

`await start_services(container)` makes the database ready (creates or migrates it) and
`await stop_services(container)` closes every connection pool that was opened, in the
reverse order of opening.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from dependency_injector import containers, providers
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.arq_queue.task_queue import ArqTaskQueue, create_arq_redis
from adapters.local.folder_mailer import FolderMailer
from adapters.local.local_file_storage import LocalFileStorage
from adapters.local.task_runner import InProcessTaskQueue
from adapters.memory.cache import InMemoryCache
from adapters.memory.heartbeats import InMemoryWorkerHeartbeats
from adapters.memory.order_updates import InProcessOrderUpdates
from adapters.memory.rate_limiter import InMemoryRateLimiter
from adapters.memory.token_store import InMemoryTokenStore
from adapters.redis_store.cache import RedisCache
from adapters.redis_store.client import create_redis_client, create_redis_cluster_client
from adapters.redis_store.heartbeats import RedisWorkerHeartbeats
from adapters.redis_store.order_updates import RedisOrderUpdates
from adapters.redis_store.rate_limiter import RedisRateLimiter
from adapters.redis_store.token_store import RedisTokenStore
from adapters.s3_storage.file_storage import S3FileStorage
from adapters.security.jwt_tokens import JwtTokenIssuer
from adapters.security.passwords import Argon2PasswordHasher
from adapters.smtp.mailer import SmtpMailer
from adapters.sql.engine import create_engine
from adapters.sql.engine import ping as ping_database
from adapters.sql.local_payment_gateway import (
    EventSink,
    SqlLocalPaymentGateway,
    local_payments_database_url,
)
from adapters.sql.migrate import ensure_database
from adapters.sql.unit_of_work import sql_unit_of_work_factory
from adapters.stripe_gateway.gateway import StripePaymentGateway
from adapters.system.clock import SystemClock
from adapters.system.ids import UuidGenerator
from application.api_keys import ApiKeys
from application.audit import AuditTrail
from application.auth import Authentication, AuthPolicy
from application.cart import Carts
from application.catalog import Catalog
from application.catalog_import import CatalogImport
from application.email_templates import ShopIdentity
from application.live_updates import LiveOrderUpdates
from application.maintenance import Maintenance
from application.notifications import Notifications
from application.orders import Orders
from application.outbox import HANDLE_EVENT_JOB, OutboxAdmin, OutboxEventHandler, OutboxRelay
from application.password_resets import PasswordResetTokens
from application.payment_events import PaymentEvents
from application.payment_flow import PaymentFlow
from application.ports.runtime import Clock
from application.product_images import ProductImages
from application.uploads import UploadPolicy, Uploads
from application.users import UserAccounts
from application.workers import Workers
from domain.errors import ServiceUnavailable
from entrypoints.settings import PASSWORD_RESET_PAGE, Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


def _password_hasher(settings: Settings) -> Argon2PasswordHasher:
    if settings.password_hashing == "fast-insecure-for-tests":
        return Argon2PasswordHasher.for_tests()
    return Argon2PasswordHasher()


def _local_jwt_secret(data_dir: Path) -> str:
    """The embedded default's signing secret: made once, kept in the data folder (0600)."""
    path = data_dir / "jwt-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _token_issuer(settings: Settings, clock: Any) -> JwtTokenIssuer:
    common: dict[str, Any] = {
        "clock": clock,
        "issuer": settings.jwt_issuer,
        "audience": settings.jwt_audience,
        "access_ttl": timedelta(seconds=settings.access_token_ttl_seconds),
    }
    if settings.jwt_private_key_file is not None and settings.jwt_public_key_file is not None:
        return JwtTokenIssuer(
            private_key_pem=settings.jwt_private_key_file.read_bytes(),
            public_key_pem=settings.jwt_public_key_file.read_bytes(),
            **common,
        )
    secret = settings.jwt_secret or _local_jwt_secret(settings.data_dir)
    return JwtTokenIssuer(secret=secret, **common)


def _files_secret(settings: Settings) -> bytes:
    """The key that signs the local file storage's URLs: derived from the configured JWT
    secret (every app process sharing it agrees), else made once and kept in the data
    folder (0600), like the embedded default's JWT secret."""
    if settings.jwt_secret is not None:
        return hmac.new(
            settings.jwt_secret.encode(), b"hexmart local file URLs", hashlib.sha256
        ).digest()
    path = settings.data_dir / "files-secret"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def _local_file_storage(settings: Settings, clock: Clock) -> LocalFileStorage:
    return LocalFileStorage(
        settings.files_dir,
        secret=_files_secret(settings),
        clock=clock,
        base_url=f"{settings.base_url}/files",
    )


def _s3_file_storage(settings: Settings) -> S3FileStorage:
    assert settings.s3_bucket is not None
    return S3FileStorage(
        settings.s3_bucket,
        region=settings.s3_region,
        endpoint_url=settings.s3_endpoint_url,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )


def _shop_identity(settings: Settings) -> ShopIdentity:
    return ShopIdentity(
        name=settings.shop_name,
        base_url=settings.base_url,
        password_reset_url=settings.password_reset_url
        or f"{settings.base_url}{PASSWORD_RESET_PAGE}#token={{token}}",
    )


def _upload_policy(settings: Settings) -> UploadPolicy:
    return UploadPolicy(
        max_bytes=settings.upload_max_bytes,
        content_types=frozenset(t.strip().lower() for t in settings.upload_content_types),
    )


def _event_handler(events: OutboxEventHandler) -> Any:
    async def handle_event(payload: dict[str, Any]) -> None:
        await events.handle(payload["message_id"], payload["name"], payload["payload"])

    return handle_event


def _closing(closers: list[Callable[[], Awaitable[object]]], resource: T, close: str) -> T:
    """Remember to call `resource.<close>()` at stop_services."""
    closers.append(getattr(resource, close))
    return resource


def _database_engine(settings: Settings, closers: list[Any]) -> AsyncEngine:
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
    )
    return _closing(closers, engine, "dispose")


def _replica_engine(settings: Settings, closers: list[Any]) -> AsyncEngine | None:
    if settings.database_replica_url is None:
        return None
    engine = create_engine(
        settings.database_replica_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
    )
    return _closing(closers, engine, "dispose")


def _redis(settings: Settings, closers: list[Any], role: Literal["cache", "live"]) -> Redis:
    url = settings.redis_url_for(role)
    assert url is not None
    if role == "cache" and settings.redis_cache_cluster:
        return _closing(closers, create_redis_cluster_client(url), "aclose")  # type: ignore[return-value]
    return _closing(closers, create_redis_client(url), "aclose")


def _arq_queue(settings: Settings, closers: list[Any]) -> ArqTaskQueue:
    url = settings.redis_url_for("queue")
    assert url is not None
    arq_redis = _closing(closers, create_arq_redis(url), "aclose")
    return ArqTaskQueue(arq_redis)


def _stripe(settings: Settings, closers: list[Any]) -> StripePaymentGateway:
    assert settings.stripe_api_key is not None
    assert settings.stripe_webhook_secret is not None
    gateway = StripePaymentGateway(
        settings.stripe_api_key,
        settings.stripe_webhook_secret,
        api_base=settings.stripe_api_base,
        webhook_tolerance_seconds=settings.stripe_webhook_tolerance_seconds,
    )
    return _closing(closers, gateway, "aclose")


# The local gateway's own pool: at most this many connections, and as many again in bursts.
LOCAL_PAYMENTS_POOL_SIZE = 5


def _local_gateway(
    settings: Settings, clock: Clock, container: Container, closers: list[Any]
) -> SqlLocalPaymentGateway:
    """The local gateway on the shop's database (a file beside it on SQLite), through a
    small pool of its own (its calls are short): the shop calls it while holding one of its
    own connections. It tells the shop of each completed payment through the payment-event
    use case."""
    engine = create_engine(
        local_payments_database_url(settings.database_url),
        pool_size=min(LOCAL_PAYMENTS_POOL_SIZE, settings.database_pool_size),
        max_overflow=min(LOCAL_PAYMENTS_POOL_SIZE, settings.database_max_overflow),
        pool_timeout=settings.database_pool_timeout,
    )
    _closing(closers, engine, "dispose")
    gateway = SqlLocalPaymentGateway(
        engine,
        clock,
        auto_complete=settings.local_payments_auto_complete,
        completion_delay=timedelta(seconds=settings.local_payments_completion_seconds),
    )
    gateway.subscribe(lambda event: container.payment_events().apply_event(event))
    return _closing(closers, gateway, "close")


def _in_process_queue(events: OutboxEventHandler, closers: list[Any]) -> InProcessTaskQueue:
    queue = InProcessTaskQueue({HANDLE_EVENT_JOB: _event_handler(events)})
    return _closing(closers, queue, "close")


def _redis_order_updates(redis: Redis, closers: list[Any]) -> RedisOrderUpdates:
    return _closing(closers, RedisOrderUpdates(redis), "aclose")


def _redis_or_memory(settings: Settings) -> str:
    return "redis" if settings.redis_url else "memory"


class Container(containers.DeclarativeContainer):
    __self__ = providers.Self()
    settings: providers.Dependency[Settings] = providers.Dependency(instance_of=Settings)
    closers = providers.Singleton(list)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidGenerator)

    database_engine = providers.Singleton(_database_engine, settings, closers)
    database_replica_engine = providers.Singleton(_replica_engine, settings, closers)
    # The readiness check of the replica, so that routes need no SQLAlchemy.
    database_replica_ping = providers.Callable(ping_database, database_replica_engine)
    # Tokens and live updates (and the readiness check); the cache and rate limits may
    # have a Redis of their own (HEXMART_REDIS_CACHE_URL).
    redis_client = providers.Singleton(_redis, settings, closers, "live")
    redis_cache_client = providers.Singleton(_redis, settings, closers, "cache")

    # Ports whose adapter the settings choose.
    unit_of_work = providers.Singleton(
        sql_unit_of_work_factory,
        database_engine,
        read_engine=database_replica_engine,
        ids=ids,
        clock=clock,
    )
    password_hasher = providers.Singleton(_password_hasher, settings)
    token_issuer = providers.Singleton(_token_issuer, settings, clock)
    token_store = providers.Selector(
        providers.Callable(_redis_or_memory, settings),
        redis=providers.Singleton(RedisTokenStore, redis_client),
        memory=providers.Singleton(InMemoryTokenStore),
    )
    cache = providers.Selector(
        providers.Callable(_redis_or_memory, settings),
        redis=providers.Singleton(
            RedisCache,
            redis_cache_client,
            cluster=providers.Callable(lambda s: s.redis_cache_cluster, settings),
        ),
        memory=providers.Singleton(InMemoryCache, clock),
    )
    rate_limiter = providers.Selector(
        providers.Callable(_redis_or_memory, settings),
        redis=providers.Singleton(RedisRateLimiter, redis_cache_client),
        memory=providers.Singleton(InMemoryRateLimiter, clock),
    )
    mailer = providers.Selector(
        providers.Callable(lambda s: "smtp" if s.smtp_url else "folder", settings),
        smtp=providers.Singleton(
            SmtpMailer,
            providers.Callable(lambda s: s.smtp_url, settings),
            sender=providers.Callable(lambda s: s.email_from, settings),
        ),
        folder=providers.Singleton(
            FolderMailer,
            providers.Callable(lambda s: s.mail_dir, settings),
            clock,
            sender=providers.Callable(lambda s: s.email_from, settings),
        ),
    )
    file_storage = providers.Selector(
        providers.Callable(lambda s: "s3" if s.s3_bucket else "local", settings),
        s3=providers.Singleton(_s3_file_storage, settings),
        local=providers.Singleton(_local_file_storage, settings, clock),
    )
    payment_gateway = providers.Selector(
        providers.Callable(lambda s: "stripe" if s.uses_stripe else "local", settings),
        stripe=providers.Singleton(_stripe, settings, closers),
        local=providers.Singleton(_local_gateway, settings, clock, __self__, closers),
    )
    shop = providers.Singleton(_shop_identity, settings)

    # Use cases.
    authentication = providers.Singleton(
        Authentication,
        uow_factory=unit_of_work,
        hasher=password_hasher,
        issuer=token_issuer,
        tokens=token_store,
        clock=clock,
        ids=ids,
        policy=providers.Callable(
            lambda s: AuthPolicy(
                refresh_token_ttl=timedelta(days=s.refresh_token_ttl_days),
                password_reset_ttl=timedelta(minutes=s.password_reset_ttl_minutes),
            ),
            settings,
        ),
    )
    user_accounts = providers.Singleton(
        UserAccounts, unit_of_work, password_hasher, token_store, clock, ids
    )
    api_keys = providers.Singleton(ApiKeys, unit_of_work, clock, ids)
    shop_currency = providers.Callable(lambda s: s.currency, settings)
    catalog = providers.Singleton(Catalog, unit_of_work, clock, ids, cache, currency=shop_currency)
    catalog_import = providers.Singleton(CatalogImport, unit_of_work, clock, ids, cache)
    carts = providers.Singleton(Carts, unit_of_work, clock, shop_currency)
    payment_flow = providers.Singleton(
        PaymentFlow, unit_of_work, payment_gateway, clock, ids, cache
    )
    orders = providers.Singleton(Orders, unit_of_work, payment_flow, clock, ids, cache)
    payment_events = providers.Singleton(
        PaymentEvents, unit_of_work, payment_gateway, payment_flow, clock, ids
    )
    order_updates = providers.Selector(
        providers.Callable(_redis_or_memory, settings),
        redis=providers.Singleton(_redis_order_updates, redis_client, closers),
        memory=providers.Singleton(InProcessOrderUpdates),
    )
    upload_policy = providers.Singleton(_upload_policy, settings)
    product_images = providers.Singleton(
        ProductImages, unit_of_work, file_storage, clock, ids, upload_policy, cache
    )
    # A Factory: the background loop uses it as the app starts (purging abandoned uploads),
    # and a Singleton made then would keep a file storage overridden afterwards (tests,
    # embedding programs). Building one is only storing references.
    uploads = providers.Factory(Uploads, unit_of_work, file_storage, clock, ids, upload_policy)
    notifications = providers.Singleton(
        Notifications,
        unit_of_work,
        mailer,
        clock,
        shop,
        reset_tokens=providers.Singleton(PasswordResetTokens, token_store, clock),
    )
    live_updates = providers.Singleton(LiveOrderUpdates, unit_of_work, order_updates)
    maintenance = providers.Singleton(Maintenance, unit_of_work, clock)
    audit = providers.Singleton(AuditTrail, unit_of_work)
    outbox_events = providers.Singleton(
        OutboxEventHandler, unit_of_work, live_updates, notifications, clock
    )

    task_queue = providers.Selector(
        providers.Callable(_redis_or_memory, settings),
        redis=providers.Singleton(_arq_queue, settings, closers),
        memory=providers.Singleton(_in_process_queue, outbox_events, closers),
    )
    outbox_relay = providers.Singleton(
        OutboxRelay,
        unit_of_work,
        task_queue,
        clock,
        providers.Callable(lambda s: timedelta(seconds=s.outbox_redeliver_after_seconds), settings),
    )
    worker_heartbeats = providers.Selector(
        providers.Callable(_redis_or_memory, settings),
        redis=providers.Singleton(RedisWorkerHeartbeats, redis_client),
        memory=providers.Singleton(InMemoryWorkerHeartbeats, clock),
    )
    workers = providers.Singleton(Workers, worker_heartbeats, clock)
    outbox_admin = providers.Singleton(OutboxAdmin, unit_of_work, clock, ids)


def connect_local_payments(container: Container, sink: EventSink) -> None:
    """Hand the local gateway's payment events to `sink` instead (the app counts them);
    nothing when payments go through another gateway."""
    gateway = container.payment_gateway()
    if isinstance(gateway, SqlLocalPaymentGateway):
        gateway.subscribe(sink)


async def deliver_local_payments(container: Container) -> int:
    """Tell the shop of local payments completed but not yet delivered (their process
    died first, or a delivery failed); 0 when payments go through another gateway."""
    gateway = container.payment_gateway()
    if not isinstance(gateway, SqlLocalPaymentGateway):
        return 0
    return await gateway.deliver_due()


async def purge_local_payments(container: Container) -> int:
    """Forget local payment intents past their retention; 0 for another gateway."""
    gateway = container.payment_gateway()
    if not isinstance(gateway, SqlLocalPaymentGateway):
        return 0
    days = container.settings().local_payments_retention_days
    return await gateway.purge(timedelta(days=days))


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


# How long the start-up check of the S3 settings may take.
FILES_CHECK_SECONDS = 10.0


async def start_services(container: Container) -> None:
    """Make the database ready: create the SQLite file or migrate to the latest schema when
    `settings.migrates_on_start`, else check it is at the latest (SchemaOutdated if not);
    not when the unit of work is overridden, as in in-memory tests. With S3 configured,
    check that its bucket answers, and log an error naming the settings if not: the app
    still starts (S3 may be down for a moment), and /health/ready reports it."""
    if not container.unit_of_work.overridden:
        settings = container.settings()
        await asyncio.to_thread(
            ensure_database, settings.database_url, migrate=settings.migrates_on_start
        )
    settings = container.settings()
    if settings.s3_bucket is not None and not container.file_storage.overridden:
        try:
            await asyncio.wait_for(container.file_storage().check(), FILES_CHECK_SECONDS)
        except (ServiceUnavailable, TimeoutError) as error:
            log.error(
                "file storage is not usable (check HEXMART_S3_BUCKET, HEXMART_S3_ENDPOINT_URL, "
                "HEXMART_S3_REGION and the credentials); uploads and product images fail "
                "until it is: %s",
                error or "no answer",
            )


async def stop_services(container: Container) -> None:
    """Close what was opened (pools, clients, background tasks), newest first."""
    closers: list[Callable[[], Awaitable[object]]] = container.closers()
    while closers:
        close = closers.pop()
        await close()
