"""/products: anyone browses the catalog; staff (or `products:write` keys) maintain it.
Reads are answered from the catalog response cache (see catalog_cache.py)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.enums import MediaType
from litestar.params import FromPath, JSONBody, QueryParameter

from application.catalog import Catalog, ProductQuery
from application.ports.persistence import ProductSort
from application.principal import Principal
from application.product_images import ProductImages
from domain.money import MAX_AMOUNT
from domain.users import Scope
from entrypoints.http.catalog_cache import CatalogResponses
from entrypoints.http.controllers.product_images import product_with_images
from entrypoints.http.dependencies import Injected
from entrypoints.http.openapi_responses import problems
from entrypoints.http.schemas.common import Cursor, Limit, page_request
from entrypoints.http.schemas.products import (
    InventoryAdjustment,
    NewProduct,
    Product,
    ProductChanges,
    ProductPage,
    product_out,
)
from entrypoints.http.security import STAFF, USER_ONLY, USER_OR_API_KEY, admin_only, allow

catalog_staff = allow(STAFF, Scope.PRODUCTS_WRITE)

Text = Annotated[
    str | None, QueryParameter(description="words in the name or description", max_length=200)
]
Category = Annotated[str | None, QueryParameter(max_length=100)]
Price = Annotated[
    int | None,
    QueryParameter(ge=0, le=MAX_AMOUNT, description="in minor units of the shop's currency"),
]
Currency = Annotated[
    str | None,
    QueryParameter(
        description="the currency of `min_price` and `max_price`: only the shop's is accepted",
        max_length=3,
    ),
]
InStock = Annotated[bool | None, QueryParameter(description="only products in stock (or not)")]
Sort = Annotated[ProductSort, QueryParameter(description="`-` means descending")]


class ProductsController(Controller):
    path = "/products"
    tags = ["catalog"]

    @get("/", responses=problems())
    async def list_products(
        self,
        catalog: Injected[Catalog],
        catalog_responses: Injected[CatalogResponses],
        product_images: Injected[ProductImages],
        q: Text = None,
        category: Category = None,
        min_price: Price = None,
        max_price: Price = None,
        in_stock: InStock = None,
        sort: Sort = ProductSort.NEWEST_FIRST,
        limit: Limit = 20,
        cursor: Cursor = None,
        currency: Currency = None,
    ) -> Response[ProductPage]:
        """Anyone: active products, filtered, sorted and paginated."""
        if currency is not None:
            catalog.require_shop_currency("currency", currency)
        query = ProductQuery(
            text=q or None,
            category=category or None,
            min_price=min_price,
            max_price=max_price,
            in_stock=in_stock,
            sort=sort,
            page=page_request(limit, cursor),
        )

        async def listing() -> bytes:
            page = await catalog.list_products(query)
            urls = await product_images.image_urls(page.items)
            return msgspec.json.encode(
                ProductPage(
                    items=[product_out(p, urls) for p in page.items], next_cursor=page.next_cursor
                )
            )

        parameters = {
            "q": query.text,
            "category": query.category,
            "min_price": min_price,
            "max_price": max_price,
            "in_stock": in_stock,
            "sort": sort.value,
            "limit": limit,
            "cursor": cursor,
        }
        body = await catalog_responses.cached("list", parameters, listing)
        return Response(content=body, media_type=MediaType.JSON)  # type: ignore[arg-type]

    @get("/{product_id:str}", responses=problems(404))
    async def get_product(
        self,
        product_id: FromPath[str],
        catalog: Injected[Catalog],
        catalog_responses: Injected[CatalogResponses],
        product_images: Injected[ProductImages],
    ) -> Response[Product]:
        """Anyone: one active product."""

        async def product() -> bytes:
            found = await catalog.get_product(product_id)
            return msgspec.json.encode(await product_with_images(product_images, found))

        body = await catalog_responses.cached("product", {"id": product_id}, product)
        return Response(content=body, media_type=MediaType.JSON)  # type: ignore[arg-type]

    @post(
        "/",
        status_code=201,
        guards=[catalog_staff],
        security=USER_OR_API_KEY,
        responses=problems(401, 403, 409, 413, on_409="The `sku` is taken by another product"),
    )
    async def create_product(
        self,
        data: JSONBody[NewProduct],
        catalog: Injected[Catalog],
        principal: Injected[Principal],
    ) -> Product:
        """Staff, admins and `products:write` keys: add a product."""
        return product_out(await catalog.create_product(principal, data.command()))

    @patch(
        "/{product_id:str}",
        guards=[catalog_staff],
        security=USER_OR_API_KEY,
        responses=problems(401, 403, 404, 409, 413),
    )
    async def change_product(
        self,
        product_id: FromPath[str],
        data: JSONBody[ProductChanges],
        catalog: Injected[Catalog],
        product_images: Injected[ProductImages],
        principal: Injected[Principal],
    ) -> Product:
        """Staff, admins and `products:write` keys: change any of the product's fields."""
        product = await catalog.change_product(principal, product_id, data.command())
        return await product_with_images(product_images, product)

    @delete(
        "/{product_id:str}",
        status_code=204,
        guards=[admin_only],
        security=USER_ONLY,
        responses=problems(401, 403, 404),
    )
    async def archive_product(
        self,
        product_id: FromPath[str],
        catalog: Injected[Catalog],
        principal: Injected[Principal],
    ) -> None:
        """Admins: archive a product. It leaves listings and carts; old orders keep it."""
        await catalog.archive_product(principal, product_id)

    @post(
        "/{product_id:str}/inventory",
        status_code=200,
        guards=[catalog_staff],
        security=USER_OR_API_KEY,
        responses=problems(401, 403, 404, 409, 413),
    )
    async def adjust_inventory(
        self,
        product_id: FromPath[str],
        data: JSONBody[InventoryAdjustment],
        catalog: Injected[Catalog],
        product_images: Injected[ProductImages],
        principal: Injected[Principal],
    ) -> Product:
        """Staff, admins and `products:write` keys: restock or correct; never below 0."""
        product = await catalog.adjust_inventory(principal, product_id, data.delta)
        return await product_with_images(product_images, product)
