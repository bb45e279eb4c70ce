"""`create_app(container)`: the Litestar app of the HTTP API, built from a container.

Nothing happens at import time; every call builds a new app around the container it is
given, so tests (and programs embedding hexmart) choose every adapter.
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State

from entrypoints.container import Container
from entrypoints.http.access_log import AccessLogMiddleware
from entrypoints.http.controllers.api_keys import ApiKeysController
from entrypoints.http.controllers.audit import AuditController
from entrypoints.http.controllers.auth import AuthController
from entrypoints.http.controllers.cart import CartController
from entrypoints.http.controllers.files import LocalFilesController
from entrypoints.http.controllers.health import HealthController
from entrypoints.http.controllers.orders import OrdersController
from entrypoints.http.controllers.product_images import ProductImagesController
from entrypoints.http.controllers.products import ProductsController
from entrypoints.http.controllers.uploads import UploadsController
from entrypoints.http.controllers.users import UsersController
from entrypoints.http.controllers.webhooks import WebhooksController
from entrypoints.http.dependencies import dependencies
from entrypoints.http.errors import exception_handlers
from entrypoints.http.http_methods import ShopApp
from entrypoints.http.lifespan import StartupTask, app_lifespan
from entrypoints.http.live_orders import order_updates_socket
from entrypoints.http.metrics import (
    METRICS_KEY,
    MetricsController,
    RequestMetricsMiddleware,
    ShopMetrics,
)
from entrypoints.http.openapi import openapi_config, swagger_ui_assets
from entrypoints.http.password_reset_page import password_reset_page
from entrypoints.http.problem_types import problem_types_json, problem_types_page
from entrypoints.http.rate_limits import GeneralRateLimitMiddleware
from entrypoints.http.response_headers import add_response_headers
from entrypoints.http.state import CONTAINER_KEY
from entrypoints.http.strict_bodies import StrictBodyRequest
from entrypoints.http.text_rules import TextRulesMiddleware
from entrypoints.settings import Settings

CONTROLLERS = (
    AuthController,
    UsersController,
    ApiKeysController,
    ProductsController,
    ProductImagesController,
    CartController,
    OrdersController,
    UploadsController,
    AuditController,
    WebhooksController,
    LocalFilesController,
    HealthController,
    MetricsController,
)


def create_app(
    container: Container,
    *,
    background_jobs: bool | None = None,
    startup_tasks: Sequence[StartupTask] = (),
) -> Litestar:
    """The HTTP API over `container`.

    `background_jobs`: run the outbox relay, order expiry and payment reconciliation in
    this process. By default only on the embedded default: once Redis is configured, the
    arq worker runs them.
    `startup_tasks`: extra coroutines run at start-up, after the first admin exists
    (`hexmart serve --demo` seeds the demo shop this way).
    """
    settings: Settings = container.settings()
    if background_jobs is None:
        background_jobs = settings.redis.url is None
    metrics = ShopMetrics()
    return ShopApp(
        route_handlers=[
            *CONTROLLERS,
            order_updates_socket,
            password_reset_page,
            problem_types_page,
            problem_types_json,
            swagger_ui_assets(),
        ],
        dependencies=dependencies(),
        exception_handlers=exception_handlers(),
        before_send=[add_response_headers],
        # Outermost first: a request refused by the rate limit is still counted; text
        # that breaks the rules is refused before anything (authentication included)
        # reads it.
        middleware=[
            AccessLogMiddleware(),
            RequestMetricsMiddleware(metrics),
            TextRulesMiddleware(),
            GeneralRateLimitMiddleware(),
        ],
        cors_config=_cors(settings),
        openapi_config=openapi_config(settings),
        request_max_body_size=settings.http.max_request_body_bytes,
        request_class=StrictBodyRequest,
        state=State({CONTAINER_KEY: container, METRICS_KEY: metrics}),
        lifespan=[
            app_lifespan(
                container,
                background_jobs=background_jobs,
                startup_tasks=startup_tasks,
                metrics=metrics,
            )
        ],
        # hexmart logs through the standard library; the CLI configures it.
        logging_config=None,
        debug=False,
    )


def _cors(settings: Settings) -> CORSConfig | None:
    if not settings.http.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.http.cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "X-API-Key",
            "X-Request-ID",
        ],
        expose_headers=["Retry-After", "WWW-Authenticate", "X-Request-ID"],
        # Credentials travel in headers, never in cookies: no need to allow them.
        allow_credentials=False,
        max_age=600,
    )
