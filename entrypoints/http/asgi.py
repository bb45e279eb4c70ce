"""The app factory uvicorn imports in each worker process (`hexmart serve --workers N`):

uvicorn --factory entrypoints.http.asgi:create_app_from_env
"""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar

from entrypoints.container import Container, build_container
from entrypoints.error_reporting import init_error_reporting
from entrypoints.http.app import create_app
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings
from entrypoints.tracing import init_tracing


def create_app_from_env(
    compose: Callable[[Settings], Container] = build_container,
) -> Litestar:
    """The API configured from `HEXMART_*` variables (and `.env`), logging in the
    format they say (each worker process configures its own logging). `compose` builds
    the container (entrypoints.testing gives its own)."""
    settings = Settings.from_env()
    configure_logging(settings.observability.log_level, settings.observability.log_format)
    init_error_reporting(settings, component="app")
    init_tracing(settings, service="hexmart-app")
    return create_app(compose(settings))
