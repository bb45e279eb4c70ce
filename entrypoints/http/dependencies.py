"""Litestar `Provide` functions: controllers get their use cases and the caller's principal
from the container the app was built with (no globals, no `wire()`)."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeAlias, TypeVar

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from application.api_keys import ApiKeys
from application.audit import AuditTrail
from application.auth import Authentication
from application.cart import Carts
from application.catalog import Catalog
from application.orders import Orders
from application.principal import Principal
from application.product_images import ProductImages
from application.refunds import Refunds
from application.uploads import Uploads
from application.users import UserAccounts
from entrypoints.http.catalog_cache import CatalogResponses
from entrypoints.http.metrics import ShopMetrics, metrics_of
from entrypoints.http.request_ids import request_id_of
from entrypoints.http.security import authenticate
from entrypoints.http.state import container_from_state

T = TypeVar("T")

# What a handler gets from the container, by parameter name. Not type-checked per request:
# the container decides what serves a port, and a test may hand in a double.
Injected: TypeAlias = NamedDependency[SkipValidation[T]]


def provide_authentication(state: State) -> Authentication:
    return container_from_state(state).authentication()


def provide_user_accounts(state: State) -> UserAccounts:
    return container_from_state(state).user_accounts()


def provide_api_keys(state: State) -> ApiKeys:
    return container_from_state(state).api_keys()


def provide_catalog(state: State) -> Catalog:
    return container_from_state(state).catalog()


def provide_catalog_responses(state: State) -> CatalogResponses:
    container = container_from_state(state)
    return CatalogResponses(
        container.cache(),
        container.settings().http.catalog_cache_ttl_seconds,
        on_lookup=metrics_of(state).health.cache_lookup,
    )


def provide_product_images(state: State) -> ProductImages:
    return container_from_state(state).product_images()


def provide_uploads(state: State) -> Uploads:
    return container_from_state(state).uploads()


def provide_carts(state: State) -> Carts:
    return container_from_state(state).carts()


def provide_orders(state: State) -> Orders:
    return container_from_state(state).orders()


def provide_refunds(state: State) -> Refunds:
    return container_from_state(state).refunds()


def provide_metrics(state: State) -> ShopMetrics:
    return metrics_of(state)


def provide_audit(state: State) -> AuditTrail:
    return container_from_state(state).audit()


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The authenticated caller (the route's guard has usually resolved it already), with
    the request's id for the audit trail."""
    principal = await authenticate(request)
    return dataclasses.replace(principal, request_id=request_id_of(request.scope))


def dependencies() -> dict[str, Provide]:
    return {
        "authentication": Provide(provide_authentication, sync_to_thread=False),
        "user_accounts": Provide(provide_user_accounts, sync_to_thread=False),
        "api_keys": Provide(provide_api_keys, sync_to_thread=False),
        "catalog": Provide(provide_catalog, sync_to_thread=False),
        "catalog_responses": Provide(provide_catalog_responses, sync_to_thread=False),
        "product_images": Provide(provide_product_images, sync_to_thread=False),
        "uploads": Provide(provide_uploads, sync_to_thread=False),
        "carts": Provide(provide_carts, sync_to_thread=False),
        "orders": Provide(provide_orders, sync_to_thread=False),
        "refunds": Provide(provide_refunds, sync_to_thread=False),
        "metrics": Provide(provide_metrics, sync_to_thread=False),
        "audit": Provide(provide_audit, sync_to_thread=False),
        "principal": Provide(provide_principal),
    }
