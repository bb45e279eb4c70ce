"""The catalog: products, their changes, stock adjustments and pages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

import msgspec

from application.catalog import NewProduct as NewProductCommand
from application.catalog import ProductChanges as ProductChangesCommand
from domain import catalog
from entrypoints.http.schemas.common import Money, given, money_in, money_out, rfc3339


class ProductImage(msgspec.Struct):
    id: str
    url: str


class Product(msgspec.Struct):
    id: str
    name: str
    description: str
    price: Money
    inventory_count: int
    category: str
    images: list[ProductImage]
    created_at: datetime
    updated_at: datetime
    # The shop's own product code, unique; null when the product has none.
    sku: str | None = None


class ProductPage(msgspec.Struct):
    items: list[Product]
    next_cursor: str | None


class NewProduct(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    price: Money
    inventory_count: int
    category: str
    description: str = ""
    sku: str | None = None

    def command(self) -> NewProductCommand:
        return NewProductCommand(
            name=self.name,
            description=self.description,
            price=money_in("price", self.price),
            inventory_count=self.inventory_count,
            category=self.category,
            sku=self.sku,
        )


class ProductChanges(msgspec.Struct, forbid_unknown_fields=True):
    """Any of the product's own fields; those left out stay as they are."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    price: Money | msgspec.UnsetType = msgspec.UNSET
    inventory_count: int | msgspec.UnsetType = msgspec.UNSET
    category: str | msgspec.UnsetType = msgspec.UNSET
    sku: str | msgspec.UnsetType = msgspec.UNSET

    def command(self) -> ProductChangesCommand:
        price = given(self.price)
        return ProductChangesCommand(
            name=given(self.name),
            description=given(self.description),
            price=money_in("price", price) if price is not None else None,
            inventory_count=given(self.inventory_count),
            category=given(self.category),
            sku=given(self.sku),
        )


class InventoryAdjustment(msgspec.Struct, forbid_unknown_fields=True):
    """A restock (positive) or a correction (negative); stock never goes below zero."""

    delta: Annotated[int, msgspec.Meta(ge=-catalog.MAX_INVENTORY, le=catalog.MAX_INVENTORY)]


def product_out(product: catalog.Product, image_urls: Mapping[str, str] | None = None) -> Product:
    """`image_urls`: a download URL per image id (ProductImages.image_urls); an image
    without one is left out."""
    urls = image_urls or {}
    return Product(
        id=product.id,
        name=product.name,
        description=product.description,
        price=money_out(product.price),
        inventory_count=product.inventory_count,
        category=product.category,
        images=[
            ProductImage(id=image.id, url=urls[image.id])
            for image in product.images
            if image.id in urls
        ],
        created_at=rfc3339(product.created_at),
        updated_at=rfc3339(product.updated_at),
        sku=product.sku,
    )
