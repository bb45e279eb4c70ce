"""The one place that decides which adapter serves which port.

`build_container(settings)` returns a dependency-injector container whose provider names
are the same whatever adapters the settings choose, so tests and embedding programs can
`container.<name>.override(...)` any of them. Nothing is built until first asked for.

Each port's adapter follows from the settings, independently:
- database: SQLite (the embedded default) or PostgreSQL, by `database.url`;
- cache, rate limits, refresh tokens, task queue, live order updates: Redis + arq when
  `redis.url` is set, else in-process;
- payments: Stripe when `payments.stripe_api_key` is set, else the local gateway;
- email: SMTP when `email.smtp_url` is set, else `.eml` files in the data folder;
- files (uploads, product images): S3 when `files.s3_bucket` is set, else a folder in the
  data folder, served by the app at `<public base URL>/files` through signed URLs.

`await start_services(container)` makes the database ready (creates or migrates it) and
checks the S3 bucket; `await stop_services(container)` closes every pool and client that
was opened (each is a `ClosedAtShutdown` resource), each after what uses it. The secrets
kept in the data folder come from `entrypoints.signing_keys`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Literal

from arq.connections import ArqRedis
from dependency_injector import containers, providers
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.arq_queue.task_queue import ArqTaskQueue, create_arq_redis
from adapters.inprocess.cache import InMemoryCache
from adapters.inprocess.folder_mailer import FolderMailer
from adapters.inprocess.heartbeats import InMemoryWorkerHeartbeats
from adapters.inprocess.local_file_storage import LocalFileStorage
from adapters.inprocess.order_updates import InProcessOrderUpdates
from adapters.inprocess.rate_limiter import InMemoryRateLimiter
from adapters.inprocess.task_runner import InProcessTaskQueue
from adapters.inprocess.token_store import InMemoryTokenStore
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
from application.message_bus import MessageBus, handler_table
from application.notifications import Notifications
from application.orders import Orders
from application.outbox import HANDLE_EVENT_JOB, OutboxAdmin, OutboxRelay
from application.password_resets import PasswordResetTokens
from application.payment_events import PaymentEvents
from application.payment_flow import PaymentFlow
from application.ports.runtime import Clock
from application.product_images import ProductImages
from application.refunds import Refunds
from application.uploads import UploadPolicy, Uploads
from application.users import UserAccounts
from application.workers import Workers
from entrypoints import signing_keys
from entrypoints.lifecycle import ClosedAtShutdown
from entrypoints.settings import (
    PASSWORD_RESET_PAGE,
    DatabaseSettings,
    PaymentSettings,
    Settings,
)
from entrypoints.startup_checks import check_s3_file_storage


def _token_issuer(settings: Settings, clock: Any) -> JwtTokenIssuer:
    auth = settings.auth
    common: dict[str, Any] = {
        "clock": clock,
        "issuer": auth.jwt_issuer,
        "audience": auth.jwt_audience,
        "access_ttl": timedelta(seconds=auth.access_token_ttl_seconds),
    }
    if auth.jwt_private_key_file is not None and auth.jwt_public_key_file is not None:
        return JwtTokenIssuer(
            private_key_pem=auth.jwt_private_key_file.read_bytes(),
            public_key_pem=auth.jwt_public_key_file.read_bytes(),
            **common,
        )
    return JwtTokenIssuer(secret=signing_keys.jwt_secret(settings), **common)


def _local_file_storage(settings: Settings, clock: Clock) -> LocalFileStorage:
    return LocalFileStorage(
        settings.files_dir,
        secret=signing_keys.file_url_key(settings),
        clock=clock,
        base_url=f"{settings.base_url}/files",
    )


def _s3_file_storage(settings: Settings) -> S3FileStorage:
    files = settings.files
    assert files.s3_bucket is not None
    return S3FileStorage(
        files.s3_bucket,
        region=files.s3_region,
        endpoint_url=files.s3_endpoint_url,
        access_key_id=files.s3_access_key_id,
        secret_access_key=files.s3_secret_access_key,
    )


def _shop_identity(settings: Settings) -> ShopIdentity:
    return ShopIdentity(
        name=settings.shop.name,
        base_url=settings.base_url,
        password_reset_url=settings.shop.password_reset_url
        or f"{settings.base_url}{PASSWORD_RESET_PAGE}#token={{token}}",
    )


def _upload_policy(settings: Settings) -> UploadPolicy:
    files = settings.files
    return UploadPolicy(
        max_bytes=files.upload_max_bytes,
        content_types=frozenset(t.strip().lower() for t in files.upload_content_types),
    )


def _database_engine(url: str | None, database: DatabaseSettings) -> AsyncEngine | None:
    """An engine on `url` with the configured pool; None without a URL (no replica)."""
    if url is None:
        return None
    return create_engine(
        url,
        pool_size=database.pool_size,
        max_overflow=database.max_overflow,
        pool_timeout=database.pool_timeout,
    )


def _redis(settings: Settings, role: Literal["cache", "live"]) -> Redis:
    url = settings.redis.url_for(role)
    assert url is not None
    if role == "cache" and settings.redis.cache_cluster:
        return create_redis_cluster_client(url)  # type: ignore[return-value]
    return create_redis_client(url)


def _arq_redis(settings: Settings) -> ArqRedis:
    url = settings.redis.url_for("queue")
    assert url is not None
    return create_arq_redis(url)


def _stripe(payments: PaymentSettings) -> StripePaymentGateway:
    assert payments.stripe_api_key is not None
    assert payments.stripe_webhook_secret is not None
    return StripePaymentGateway(
        payments.stripe_api_key,
        payments.stripe_webhook_secret,
        api_base=payments.stripe_api_base,
        webhook_tolerance_seconds=payments.stripe_webhook_tolerance_seconds,
    )


# The local gateway's own pool: at most this many connections, and as many again in bursts.
LOCAL_PAYMENTS_POOL_SIZE = 5


def _local_payments_engine(database: DatabaseSettings) -> AsyncEngine:
    """The local gateway's engine on the shop's database (a file beside it on SQLite),
    through a small pool of its own (its calls are short): the shop calls it while holding
    one of its own connections."""
    return create_engine(
        local_payments_database_url(database.url),
        pool_size=min(LOCAL_PAYMENTS_POOL_SIZE, database.pool_size),
        max_overflow=min(LOCAL_PAYMENTS_POOL_SIZE, database.max_overflow),
        pool_timeout=database.pool_timeout,
    )


def _local_gateway(
    payments: PaymentSettings, clock: Clock, container: Container, engine: AsyncEngine
) -> SqlLocalPaymentGateway:
    """The local gateway. It tells the shop of each completed payment through the
    payment-event use case."""
    gateway = SqlLocalPaymentGateway(
        engine,
        clock,
        auto_complete=payments.local_auto_complete,
        completion_delay=timedelta(seconds=payments.local_completion_seconds),
    )
    gateway.subscribe(lambda event: container.payment_events().apply_event(event))
    return gateway


def _in_process_queue(bus: MessageBus) -> InProcessTaskQueue:
    return InProcessTaskQueue({HANDLE_EVENT_JOB: bus.handle_job})


def _redis_or_memory(settings: Settings) -> str:
    return "redis" if settings.redis.url else "memory"


class Container(containers.DeclarativeContainer):
    __self__ = providers.Self()
    settings: providers.Dependency[Settings] = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidGenerator)

    # What must be closed is a ClosedAtShutdown resource: made on first use, closed by
    # stop_services (container.shutdown_resources()).
    database_settings = providers.Callable(lambda s: s.database, settings)
    database_engine = ClosedAtShutdown(
        _database_engine,
        providers.Callable(lambda s: s.url, database_settings),
        database_settings,
        close="dispose",
    )
    database_replica_engine = ClosedAtShutdown(
        _database_engine,
        providers.Callable(lambda s: s.replica_url, database_settings),
        database_settings,
        close="dispose",
    )
    # The readiness check of the replica, so that routes need no SQLAlchemy.
    database_replica_ping = providers.Callable(ping_database, database_replica_engine)
    # Tokens and live updates (and the readiness check); the cache and rate limits may
    # have a Redis of their own (HEXMART_REDIS_CACHE_URL).
    redis_client = ClosedAtShutdown(_redis, settings, "live")
    redis_cache_client = ClosedAtShutdown(_redis, settings, "cache")

    # Ports whose adapter the settings choose.
    unit_of_work = providers.Singleton(
        sql_unit_of_work_factory,
        database_engine,
        read_engine=database_replica_engine,
        ids=ids,
        clock=clock,
    )
    password_hasher = providers.Singleton(Argon2PasswordHasher)
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
            cluster=providers.Callable(lambda s: s.redis.cache_cluster, settings),
        ),
        memory=providers.Singleton(InMemoryCache, clock),
    )
    rate_limiter = providers.Selector(
        providers.Callable(_redis_or_memory, settings),
        redis=providers.Singleton(RedisRateLimiter, redis_cache_client),
        memory=providers.Singleton(InMemoryRateLimiter, clock),
    )
    mailer = providers.Selector(
        providers.Callable(lambda s: "smtp" if s.email.smtp_url else "folder", settings),
        smtp=providers.Singleton(
            SmtpMailer,
            providers.Callable(lambda s: s.email.smtp_url, settings),
            sender=providers.Callable(lambda s: s.email.sender, settings),
        ),
        folder=providers.Singleton(
            FolderMailer,
            providers.Callable(lambda s: s.mail_dir, settings),
            clock,
            sender=providers.Callable(lambda s: s.email.sender, settings),
        ),
    )
    file_storage = providers.Selector(
        providers.Callable(lambda s: "s3" if s.files.s3_bucket else "local", settings),
        s3=providers.Singleton(_s3_file_storage, settings),
        local=providers.Singleton(_local_file_storage, settings, clock),
    )
    payment_settings = providers.Callable(lambda s: s.payments, settings)
    payment_gateway = providers.Selector(
        providers.Callable(lambda s: "stripe" if s.payments.uses_stripe else "local", settings),
        stripe=ClosedAtShutdown(_stripe, payment_settings),
        local=ClosedAtShutdown(
            _local_gateway,
            payment_settings,
            clock,
            __self__,
            ClosedAtShutdown(_local_payments_engine, database_settings, close="dispose"),
            close="close",
        ),
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
                refresh_token_ttl=timedelta(days=s.auth.refresh_token_ttl_days),
                password_reset_ttl=timedelta(minutes=s.auth.password_reset_ttl_minutes),
            ),
            settings,
        ),
    )
    user_accounts = providers.Singleton(
        UserAccounts, unit_of_work, password_hasher, token_store, clock, ids
    )
    api_keys = providers.Singleton(ApiKeys, unit_of_work, clock, ids)
    shop_currency = providers.Callable(lambda s: s.shop.currency, settings)
    catalog = providers.Singleton(Catalog, unit_of_work, clock, ids, cache, currency=shop_currency)
    catalog_import = providers.Singleton(CatalogImport, unit_of_work, clock, ids, cache)
    carts = providers.Singleton(Carts, unit_of_work, clock, shop_currency)
    refunds = providers.Singleton(Refunds, unit_of_work, payment_gateway, clock, ids)
    payment_flow = providers.Singleton(
        PaymentFlow, unit_of_work, payment_gateway, refunds, clock, ids, cache
    )
    orders = providers.Singleton(Orders, unit_of_work, payment_flow, clock, ids, cache)
    payment_events = providers.Singleton(
        PaymentEvents, unit_of_work, payment_gateway, payment_flow, refunds, clock, ids
    )
    order_updates = providers.Selector(
        providers.Callable(_redis_or_memory, settings),
        redis=ClosedAtShutdown(RedisOrderUpdates, redis_client),
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
        mailer,
        clock,
        shop,
        reset_tokens=providers.Singleton(PasswordResetTokens, token_store, clock),
    )
    live_updates = providers.Singleton(LiveOrderUpdates, order_updates)
    maintenance = providers.Singleton(Maintenance, unit_of_work, clock)
    audit = providers.Singleton(AuditTrail, unit_of_work)
    # The one table of event handlers; the worker and the in-process runner both hand
    # their jobs to this bus.
    event_handlers = providers.Factory(handler_table, live_updates, notifications)
    message_bus = providers.Singleton(MessageBus, unit_of_work, event_handlers, clock)

    task_queue = providers.Selector(
        providers.Callable(_redis_or_memory, settings),
        redis=providers.Singleton(ArqTaskQueue, ClosedAtShutdown(_arq_redis, settings)),
        memory=ClosedAtShutdown(_in_process_queue, message_bus, close="close"),
    )
    outbox_relay = providers.Singleton(
        OutboxRelay,
        unit_of_work,
        task_queue,
        clock,
        providers.Callable(lambda s: timedelta(seconds=s.outbox.redeliver_after_seconds), settings),
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
    days = container.settings().payments.local_retention_days
    return await gateway.purge(timedelta(days=days))


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


async def start_services(container: Container) -> None:
    """Make the database ready: create the SQLite file or migrate to the latest schema when
    `settings.database.migrates_on_start`, else check it is at the latest (SchemaOutdated
    if not); not when the unit of work is overridden, as in in-memory tests. With S3
    configured, check that its bucket answers (a failure is logged, not raised)."""
    settings = container.settings()
    if not container.unit_of_work.overridden:
        database = settings.database
        await asyncio.to_thread(ensure_database, database.url, migrate=database.migrates_on_start)
    if settings.files.s3_bucket is not None and not container.file_storage.overridden:
        await check_s3_file_storage(container.file_storage())


async def stop_services(container: Container) -> None:
    """Close what was opened (pools, clients, background tasks), each after what uses it."""
    closing = container.shutdown_resources()
    if closing is not None:
        await closing
