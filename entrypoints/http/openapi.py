"""The OpenAPI 3.1 document at /schema/openapi.json, and the documentation page at /schema,
which loads Swagger UI from files served by the app itself (no CDN: it works offline)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, Tag
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.types import Method

from entrypoints.http.openapi_document import refine
from entrypoints.http.security import SECURITY_SCHEMES
from entrypoints.settings import Settings

SWAGGER_UI_DIR = Path(__file__).parent / "static" / "swagger-ui"
SWAGGER_UI_PATH = "/static/swagger-ui"

DESCRIPTION = """\
A small, fast, correct e-commerce backend.

Authenticate users with `Authorization: Bearer <access token>` (from `/auth/login`) and
third-party programs with `X-API-Key` (scoped, from `/api-keys`). Errors are RFC 9457
problem details (`application/problem+json`). Money is `{"amount": <minor units>,
"currency": "USD"}`. Lists are keyset-paginated: `?limit=20&cursor=...` answers
`{"items": [...], "next_cursor": ...}`. Every problem `type` is explained, with what to do
about it, at [/problems](/problems). Live order updates: the WebSocket
`GET /ws/orders/{id}`, described in the repository's `docs/websocket.md`.
"""

TAGS = [
    Tag(name="auth", description="Sign-up, sign-in, token refresh, sign-out, password reset"),
    Tag(name="users", description="Your own profile; user administration (admins)"),
    Tag(name="api keys", description="Scoped keys for third-party programs (admins)"),
    Tag(name="catalog", description="Products: anyone browses, staff maintain"),
    Tag(name="uploads", description="Files users upload, through presigned URLs"),
    Tag(name="cart", description="The signed-in user's cart"),
    Tag(name="orders", description="Checkout, order history, fulfilment, refunds"),
    Tag(name="webhooks", description="Events from the payment provider (signed, not for clients)"),
    Tag(name="audit", description="Administrative actions: who did what, when (admins)"),
    Tag(name="operations", description="Health checks"),
]


def _version() -> str:
    try:
        return version("hexmart")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def _operation_id(handler: HTTPRouteHandler, method: Method, path: list[str | Any]) -> str:
    """The handler's name (`place_order`): generated clients name their methods after it."""
    return handler.handler_name


class _Refined:
    """Renders the exact document (`openapi_document.refine`), made once per app."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._made: tuple[int, dict[str, Any]] | None = None

    def __call__(self, generated: dict[str, Any]) -> dict[str, Any]:
        if self._made is None or self._made[0] != id(generated):
            self._made = (id(generated), refine(generated, self._settings, _version()))
        return self._made[1]


class _ExactJson(JsonRenderPlugin):
    def __init__(self, refined: _Refined) -> None:
        super().__init__()
        self._refined = refined

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self._refined(openapi_schema))


class _ExactSwagger(SwaggerRenderPlugin):
    def __init__(self, refined: _Refined, **options: Any) -> None:
        super().__init__(**options)
        self._refined = refined

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, self._refined(openapi_schema))


def openapi_config(settings: Settings) -> OpenAPIConfig:
    asset = f"{SWAGGER_UI_PATH}/{{}}".format
    refined = _Refined(settings)
    return OpenAPIConfig(
        title="hexmart",
        version=_version(),
        operation_id_creator=_operation_id,
        description=DESCRIPTION,
        tags=TAGS,
        components=Components(security_schemes=dict(SECURITY_SCHEMES)),
        path="/schema",
        use_handler_docstrings=True,
        render_plugins=[
            _ExactJson(refined),
            _ExactSwagger(
                refined,
                path="/",
                js_url=asset("swagger-ui-bundle.js"),
                css_url=asset("swagger-ui.css"),
                standalone_preset_js_url=asset("swagger-ui-standalone-preset.js"),
                favicon="",
            ),
        ],
    )


def swagger_ui_assets() -> Router:
    return create_static_files_router(
        path=SWAGGER_UI_PATH,
        directories=[SWAGGER_UI_DIR],
        include_in_schema=False,
        name="swagger-ui-assets",
    )
