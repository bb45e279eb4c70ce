"""The one place that decides which adapter serves which port.

`build_container(settings)` returns a dependency-injector container whose provider names
are the same whatever adapters the settings choose, so tests and embedding programs can
`container.<name>.override(...)` any of them. Nothing is built until first asked for.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from adapters.local.folder_mailer import FolderMailer
from adapters.local.payment_gateway import LocalPaymentGateway
from adapters.local.task_runner import InProcessTaskQueue
from adapters.memory.cache import InMemoryCache
from adapters.memory.file_storage import InMemoryFileStorage
from adapters.memory.rate_limiter import InMemoryRateLimiter
from adapters.memory.token_store import InMemoryTokenStore
from adapters.memory.unit_of_work import in_memory_unit_of_work_factory
from adapters.security.jwt_tokens import JwtTokenIssuer
from adapters.security.passwords import Argon2PasswordHasher
from adapters.system.clock import SystemClock
from adapters.system.ids import UuidGenerator
from application.api_keys import ApiKeys
from application.auth import Authentication, AuthPolicy
from application.cart import Carts
from application.catalog import Catalog
from application.email_templates import ShopIdentity
from application.notifications import Notifications
from application.orders import Orders
from application.outbox import HANDLE_EVENT_JOB, OutboxRelay
from application.payment_events import PaymentEvents
from application.payment_flow import PaymentFlow
from application.users import UserAccounts
from entrypoints.settings import Settings


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


def _event_handler(notifications: Notifications) -> Any:
    async def handle_event(payload: dict[str, Any]) -> None:
        await notifications.handle_event(payload["message_id"], payload["name"], payload["payload"])

    return handle_event


class Container(containers.DeclarativeContainer):
    settings: providers.Dependency[Settings] = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidGenerator)

    # Ports whose adapter the settings choose (see build_container).
    unit_of_work = providers.Singleton(in_memory_unit_of_work_factory)
    password_hasher = providers.Singleton(_password_hasher, settings)
    token_issuer = providers.Singleton(_token_issuer, settings, clock)
    token_store = providers.Singleton(InMemoryTokenStore)
    cache = providers.Singleton(InMemoryCache, clock)
    rate_limiter = providers.Singleton(InMemoryRateLimiter, clock)
    mailer = providers.Singleton(
        FolderMailer,
        providers.Callable(lambda s: s.mail_dir, settings),
        clock,
        sender=providers.Callable(lambda s: s.email_from, settings),
    )
    file_storage = providers.Singleton(InMemoryFileStorage, clock)
    payment_gateway = providers.Singleton(
        LocalPaymentGateway,
        clock,
        auto_complete=providers.Callable(lambda s: s.local_payments_auto_complete, settings),
    )
    shop = providers.Singleton(
        lambda s: ShopIdentity(name=s.shop_name, base_url=s.public_base_url), settings
    )

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
    catalog = providers.Singleton(Catalog, unit_of_work, clock, ids)
    carts = providers.Singleton(
        Carts, unit_of_work, clock, providers.Callable(lambda s: s.currency, settings)
    )
    payment_flow = providers.Singleton(PaymentFlow, unit_of_work, payment_gateway, clock, ids)
    orders = providers.Singleton(Orders, unit_of_work, payment_flow, clock, ids)
    payment_events = providers.Singleton(
        PaymentEvents, unit_of_work, payment_gateway, payment_flow, clock, ids
    )
    notifications = providers.Singleton(Notifications, unit_of_work, mailer, clock, shop)

    task_queue = providers.Singleton(
        InProcessTaskQueue,
        providers.Dict({HANDLE_EVENT_JOB: providers.Callable(_event_handler, notifications)}),
    )
    outbox_relay = providers.Singleton(OutboxRelay, unit_of_work, task_queue, clock)


def build_container(settings: Settings) -> Container:
    """Wire the adapters the settings ask for. The SQL, Redis, Stripe, S3 and SMTP
    adapters plug in here as they land; until then those settings are refused."""
    unsupported = [
        name
        for name, value in (
            ("HEXMART_REDIS_URL", settings.redis_url),
            ("HEXMART_STRIPE_API_KEY", settings.stripe_api_key),
            ("HEXMART_S3_BUCKET", settings.s3_bucket),
            ("HEXMART_SMTP_URL", settings.smtp_url),
        )
        if value
    ]
    if unsupported:
        raise NotImplementedError(f"not available in this version: {', '.join(unsupported)}")
    return Container(settings=settings)
