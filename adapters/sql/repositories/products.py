"""The catalog: products, their images, and the stock they have left."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import Row, case, delete, not_, or_, select, update

from adapters.sql.keyset import Keyset, SortValue
from adapters.sql.tables import product_images, products
from adapters.sql.transaction import Executor, SqlTransaction
from application.ports.persistence import (
    DuplicateRecord,
    Page,
    ProductListing,
    ProductSort,
    ReservedProduct,
)
from domain.catalog import Product, ProductImage, searchable
from domain.money import Money
from domain.values import Quantity

_SORTS = {
    ProductSort.NEWEST_LAST: Keyset(products.c.created_at, products.c.id, SortValue.TIMESTAMP),
    ProductSort.NEWEST_FIRST: Keyset(
        products.c.created_at, products.c.id, SortValue.TIMESTAMP, descending=True
    ),
    ProductSort.PRICE_LOW_FIRST: Keyset(products.c.price_amount, products.c.id, SortValue.INTEGER),
    ProductSort.PRICE_HIGH_FIRST: Keyset(
        products.c.price_amount, products.c.id, SortValue.INTEGER, descending=True
    ),
    ProductSort.NAME: Keyset(products.c.name, products.c.id, SortValue.TEXT),
}


def _product_values(product: Product) -> dict[str, Any]:
    return {
        "name": product.name,
        "description": product.description,
        "search_name": searchable(product.name),
        "search_description": searchable(product.description),
        "price_amount": product.price.amount,
        "price_currency": product.price.currency,
        "inventory_count": product.inventory_count,
        "category": product.category,
        "is_archived": product.is_archived,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
        "version": product.version,
        "sku": product.sku,
    }


def _image_rows(product: Product) -> list[dict[str, Any]]:
    return [
        {
            "id": image.id,
            "product_id": product.id,
            "position": position,
            "storage_key": image.storage_key,
            "content_type": image.content_type,
            "created_at": image.created_at,
        }
        for position, image in enumerate(product.images)
    ]


def _product(row: Row[Any], images: list[ProductImage]) -> Product:
    return Product(
        id=row.id,
        name=row.name,
        description=row.description,
        price=Money(row.price_amount, row.price_currency),
        inventory_count=row.inventory_count,
        category=row.category,
        created_at=row.created_at,
        updated_at=row.updated_at,
        is_archived=row.is_archived,
        images=images,
        version=row.version,
        sku=row.sku,
    )


async def _with_images(execute: Executor, rows: Sequence[Row[Any]]) -> list[Product]:
    """Products for `rows`, with their images fetched in one more query."""
    if not rows:
        return []
    query = (
        select(product_images)
        .where(product_images.c.product_id.in_([row.id for row in rows]))
        .order_by(product_images.c.product_id, product_images.c.position)
    )
    images: dict[str, list[ProductImage]] = {row.id: [] for row in rows}
    for image in (await execute(query)).all():
        images[image.product_id].append(
            ProductImage(
                id=image.id,
                storage_key=image.storage_key,
                content_type=image.content_type,
                created_at=image.created_at,
            )
        )
    return [_product(row, images[row.id]) for row in rows]


def _filters(listing: ProductListing) -> list[Any]:
    """The listing's conditions as they are (see ProductListing): the search columns hold
    the searchable form of the name and description."""
    conditions: list[Any] = [
        products.c.is_archived if listing.archived else not_(products.c.is_archived)
    ]
    if listing.text is not None:
        conditions.append(
            or_(
                products.c.search_name.contains(listing.text, autoescape=True),
                products.c.search_description.contains(listing.text, autoescape=True),
            )
        )
    if listing.category is not None:
        conditions.append(products.c.category == listing.category)
    if listing.min_price is not None:
        conditions.append(products.c.price_amount >= listing.min_price)
    if listing.max_price is not None:
        conditions.append(products.c.price_amount <= listing.max_price)
    if listing.in_stock is True:
        conditions.append(products.c.inventory_count > 0)
    elif listing.in_stock is False:
        conditions.append(products.c.inventory_count == 0)
    return conditions


# add_many's COPY on PostgreSQL: the columns, in order (built from constants only).
_COPY_COLUMNS = (
    "id",
    "name",
    "description",
    "search_name",
    "search_description",
    "price_amount",
    "price_currency",
    "inventory_count",
    "category",
    "is_archived",
    "created_at",
    "updated_at",
    "version",
    "sku",
)
_COPY = f"COPY products ({', '.join(_COPY_COLUMNS)}) FROM STDIN"


class SqlProductRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx
        # The images as read, so that save() rewrites them only when they changed.
        self._images_read: dict[str, list[ProductImage]] = {}

    async def add(self, product: Product) -> None:
        """Raises DuplicateRecord if the id exists already."""
        statement = (
            self._tx.insert(products)
            .values(id=product.id, **_product_values(product))
            .on_conflict_do_nothing()
        )
        if (await self._tx.execute(statement)).rowcount != 1:
            raise DuplicateRecord("products.id")
        if product.images:
            await self._tx.execute(product_images.insert(), _image_rows(product))
        self._remember(product)

    async def add_many(self, products_to_add: list[Product]) -> None:
        """Add them all at once: on PostgreSQL by COPY (one stream, no statement per row),
        on SQLite by an executemany. A taken id or sku raises DuplicateRecord and leaves
        the transaction to be rolled back."""
        if not products_to_add:
            return
        rows = [{"id": p.id, **_product_values(p)} for p in products_to_add]
        if self._tx.is_postgres:
            await self._copy(rows)
        else:
            await self._tx.execute(products.insert(), rows)
        images = [row for p in products_to_add for row in _image_rows(p)]
        if images:
            await self._tx.execute(product_images.insert(), images)
        for product in products_to_add:
            self._remember(product)

    async def _copy(self, rows: list[dict[str, Any]]) -> None:
        # The driver's own connection: the same one, in the same transaction (begun here
        # if nothing ran before, so that the unit of work's commit commits the COPY).
        if not self._tx.connection.in_transaction():
            await self._tx.connection.begin()
        raw = await self._tx.connection.get_raw_connection()
        driver = raw.driver_connection
        try:
            async with driver.cursor() as cursor, cursor.copy(_COPY) as copy:
                for row in rows:
                    await copy.write_row([row[name] for name in _COPY_COLUMNS])
        except psycopg.errors.UniqueViolation as error:
            raise DuplicateRecord(error.diag.constraint_name or "products") from error

    async def get_by_skus(self, skus: list[str], *, for_update: bool = False) -> list[Product]:
        wanted = sorted(set(skus))
        if not wanted:
            return []
        query = select(products).where(products.c.sku.in_(wanted)).order_by(products.c.id)
        if for_update:
            query = query.with_for_update()
        return await self._load(query)

    async def get(self, product_id: str, *, for_update: bool = False) -> Product | None:
        query = select(products).where(products.c.id == product_id)
        if for_update:
            query = query.with_for_update()
        found = await self._load(query)
        return found[0] if found else None

    async def get_many(self, product_ids: list[str]) -> list[Product]:
        """The products that exist among `product_ids`, in the order asked for."""
        wanted = list(dict.fromkeys(product_ids))
        if not wanted:
            return []
        found = {
            p.id: p for p in await self._load(select(products).where(products.c.id.in_(wanted)))
        }
        return [found[product_id] for product_id in wanted if product_id in found]

    async def save(self, product: Product) -> None:
        await self._tx.update_aggregate(products, "product", product.id, _product_values(product))
        if self._images_read.get(product.id) != product.images:
            await self._tx.execute(
                delete(product_images).where(product_images.c.product_id == product.id)
            )
            if product.images:
                await self._tx.execute(product_images.insert(), _image_rows(product))
        self._images_read[product.id] = list(product.images)

    async def list_page(self, listing: ProductListing) -> Page[Product]:
        """Reads from the read replica when the unit of work has one."""
        keyset = _SORTS[listing.sort]
        statement, limit = keyset.paginate(select(products).where(*_filters(listing)), listing.page)

        async def read(execute: Executor) -> Page[Product]:
            rows, next_cursor = keyset.cut((await execute(statement)).all(), limit)
            return Page(items=await _with_images(execute, rows), next_cursor=next_cursor)

        return await self._tx.on_replica(read)

    async def reserve_lines(self, quantities: Mapping[str, Quantity]) -> dict[str, ReservedProduct]:
        """One UPDATE ... RETURNING for all the lines (the quantity of each row picked by a
        CASE on its id), each row taken only if `inventory_count >= quantity`. The
        rows are found through the primary key, so two carts sharing products lock them
        in the same (index) order."""
        if not quantities:
            return {}
        wanted = {pid: quantities[pid].value for pid in sorted(quantities)}
        quantity = case(wanted, value=products.c.id)
        statement = (
            update(products)
            .where(
                products.c.id.in_(list(wanted)),
                products.c.inventory_count >= quantity,
                not_(products.c.is_archived),
            )
            .values(
                inventory_count=products.c.inventory_count - quantity,
                version=products.c.version + 1,
            )
            .returning(
                products.c.id, products.c.name, products.c.price_amount, products.c.price_currency
            )
        )
        taken: dict[str, ReservedProduct] = {}
        for row in (await self._tx.execute(statement)).all():
            taken[row.id] = ReservedProduct(
                row.id, row.name, Money(row.price_amount, row.price_currency), quantities[row.id]
            )
            self._tx.bump_if_seen("product", row.id)
        return taken

    async def release_stock(self, product_id: str, quantity: Quantity) -> None:
        statement = (
            update(products)
            .where(products.c.id == product_id)
            .values(
                inventory_count=products.c.inventory_count + quantity.value,
                version=products.c.version + 1,
            )
        )
        if (await self._tx.execute(statement)).rowcount == 1:
            self._tx.bump_if_seen("product", product_id)

    async def _load(self, query: Any) -> list[Product]:
        rows = (await self._tx.execute(query)).all()
        found = await _with_images(self._tx.execute, rows)
        for product in found:
            self._remember(product)
        return found

    def _remember(self, product: Product) -> None:
        self._tx.remember("product", product.id, product.version)
        self._images_read[product.id] = list(product.images)
