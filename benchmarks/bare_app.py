"""The floor for catalog reads: a bare Litestar endpoint that returns the same 20 product
structs as `GET /products?limit=20`, from memory, served by the same server software.

    uvicorn --factory benchmarks.bare_app:create_bare_app
"""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Litestar, get

from entrypoints.http.schemas.common import Money
from entrypoints.http.schemas.products import Product, ProductPage


def _page() -> ProductPage:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        Product(
            id=f"bp-{n:07d}",
            name=f"Item {n} word{n % 100}",
            description=f"A product for the benchmark, number {n}",
            price=Money(amount=100 + n, currency="USD"),
            inventory_count=1_000_000_000,
            category=f"cat{n % 20}",
            images=[],
            created_at=now,
            updated_at=now,
        )
        for n in range(1, 21)
    ]
    return ProductPage(items=items, next_cursor="bare-cursor")


def create_bare_app() -> Litestar:
    page = _page()

    @get("/products", sync_to_thread=False)
    def list_products() -> ProductPage:
        return page

    return Litestar([list_products], openapi_config=None)
