"""The OpenAPI 3.1 document at /schema/openapi.json, and the documentation page at /schema,
which loads Swagger UI from files served by the app itself (no CDN: it works offline)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, Tag
from litestar.router import Router
from litestar.static_files import create_static_files_router

from entrypoints.http.security import SECURITY_SCHEMES

SWAGGER_UI_DIR = Path(__file__).parent / "static" / "swagger-ui"
SWAGGER_UI_PATH = "/static/swagger-ui"

DESCRIPTION = """\
A small, fast, correct e-commerce backend.

Authenticate users with `Authorization: Bearer <access token>` (from `/auth/login`) and
third-party programs with `X-API-Key` (scoped, from `/api-keys`). Errors are RFC 9457
problem details (`application/problem+json`). Money is `{"amount": <minor units>,
"currency": "USD"}`. Lists are keyset-paginated: `?limit=20&cursor=...` answers
`{"items": [...], "next_cursor": ...}`.
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


def openapi_config() -> OpenAPIConfig:
    asset = f"{SWAGGER_UI_PATH}/{{}}".format
    return OpenAPIConfig(
        title="hexmart",
        version=_version(),
        description=DESCRIPTION,
        tags=TAGS,
        components=Components(security_schemes=dict(SECURITY_SCHEMES)),
        path="/schema",
        use_handler_docstrings=True,
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=asset("swagger-ui-bundle.js"),
                css_url=asset("swagger-ui.css"),
                standalone_preset_js_url=asset("swagger-ui-standalone-preset.js"),
                favicon="",
            )
        ],
    )


def swagger_ui_assets() -> Router:
    return create_static_files_router(
        path=SWAGGER_UI_PATH,
        directories=[SWAGGER_UI_DIR],
        include_in_schema=False,
        name="swagger-ui-assets",
    )
