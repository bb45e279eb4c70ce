"""The catalog: staff create and change products, anyone browses them.

Readers may keep catalog answers in the `Cache` port keyed by `CATALOG_GENERATION`'s
current value: every product change bumps it after its commit (`announce_catalog_change`),
here and wherever stock moves (orders placed, cancelled or expired), so a change is
visible on the next read."""

from __future__ import annotations

from dataclasses import dataclass, field

from application.audit import record_audit
from application.ports.persistence import (
    DuplicateRecord,
    Page,
    PageRequest,
    ProductListing,
    ProductSort,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.ports.runtime import Cache, Clock, IdGenerator
from application.principal import ADMIN_ONLY, STAFF_ROLES, Principal
from application.transactions import in_transaction
from domain.catalog import Product, category_key, searchable
from domain.errors import Conflict, InvalidValue, NotFound
from domain.money import Money
from domain.users import Scope


@dataclass(frozen=True, slots=True)
class NewProduct:
    name: str
    description: str
    price: Money
    inventory_count: int
    category: str
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class ProductChanges:
    """A partial update; None leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    price: Money | None = None
    inventory_count: int | None = None
    category: str | None = None
    sku: str | None = None


def _product_summary(fields: NewProduct | ProductChanges) -> dict[str, object]:
    return {
        "sku": fields.sku,
        "name": fields.name,
        "price": str(fields.price) if fields.price is not None else None,
        "inventory_count": fields.inventory_count,
        "category": fields.category,
    }


def _sku_taken(sku: str | None) -> Conflict:
    return Conflict(f"sku {sku} is already used by another product")


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """What a shopper asks the catalog for. `text` is looked for in names and
    descriptions, whatever its case (empty: no text filter); `category` is matched
    whatever its case and surrounding spaces; prices are inclusive bounds in minor units;
    `in_stock` True or False keeps only the products with or without stock. Archived
    products are never listed."""

    text: str | None = None
    category: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    sort: ProductSort = ProductSort.NEWEST_FIRST
    page: PageRequest = field(default_factory=PageRequest)


def product_listing(query: ProductQuery) -> ProductListing:
    """The listing storage runs for `query`: checked (InvalidValue naming the field),
    archived products left out, the text and category in the form products hold them."""
    _check_query(query)
    return ProductListing(
        archived=False,
        text=searchable(query.text) if query.text else None,
        category=category_key(query.category) if query.category is not None else None,
        min_price=query.min_price,
        max_price=query.max_price,
        in_stock=query.in_stock,
        sort=query.sort,
        page=query.page,
    )


def _check_query(query: ProductQuery) -> None:
    for name, value in (("min_price", query.min_price), ("max_price", query.max_price)):
        if value is not None and value < 0:
            raise InvalidValue(name, "must not be negative")
    if (
        query.min_price is not None
        and query.max_price is not None
        and query.min_price > query.max_price
    ):
        raise InvalidValue("min_price", "must not be greater than max_price")
    if query.text is not None and len(query.text) > 200:
        raise InvalidValue("q", "must be at most 200 characters")


# The cache key whose counter names the catalog's current version.
CATALOG_GENERATION = "catalog:generation"


async def announce_catalog_change(cache: Cache | None) -> None:
    """Call after a commit that changed products: a reader that sees the new generation
    must find the new data."""
    if cache is not None:
        await cache.incr(CATALOG_GENERATION)


class Catalog:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        ids: IdGenerator,
        cache: Cache | None = None,
        *,
        currency: str,
    ) -> None:
        """`currency` is the shop's: every price is in it (a product priced in any other
        could be neither compared, filtered nor put in a cart beside the rest)."""
        self._uow_factory = uow_factory
        self._clock = clock
        self._ids = ids
        self._cache = cache
        self.currency = currency

    def require_shop_currency(self, field: str, currency: str) -> str:
        """`currency`, if it is the shop's; else InvalidValue naming `field`."""
        if currency != self.currency:
            raise InvalidValue(field, f"must be {self.currency}, the shop's currency")
        return currency

    async def _changed(self) -> None:
        await announce_catalog_change(self._cache)

    async def create_product(self, actor: Principal, new: NewProduct) -> Product:
        actor.require(STAFF_ROLES, Scope.PRODUCTS_WRITE)
        self.require_shop_currency("price.currency", new.price.currency)
        now = self._clock.now()
        product = Product(
            id=self._ids.new_id(),
            name=new.name,
            description=new.description,
            price=new.price,
            inventory_count=new.inventory_count,
            category=new.category,
            created_at=now,
            updated_at=now,
            sku=new.sku,
        )
        async with self._uow_factory() as uow:
            try:
                await uow.products.add(product)
            except DuplicateRecord:  # ids are unique by construction: the sku is taken
                raise _sku_taken(product.sku) from None
            await record_audit(
                uow,
                self._ids,
                self._clock,
                actor,
                "product.create",
                ("product", product.id),
                _product_summary(new),
            )
            await uow.commit()
        await self._changed()
        return product

    async def get_product(self, product_id: str) -> Product:
        """An active product; archived ones are gone for shoppers."""
        async with self._uow_factory() as uow:
            product = await uow.products.get(product_id)
        if product is None or product.is_archived:
            raise NotFound("product", product_id)
        return product

    async def get_product_by_sku(self, sku: str) -> Product:
        """An active product by its sku."""
        async with self._uow_factory() as uow:
            found = await uow.products.get_by_skus([sku])
        if not found or found[0].is_archived:
            raise NotFound("product with sku", sku)
        return found[0]

    async def list_products(self, query: ProductQuery) -> Page[Product]:
        """Active products matching `query` (see ProductQuery), a page at a time."""
        listing = product_listing(query)
        async with self._uow_factory() as uow:
            return await uow.products.list_page(listing)

    async def change_product(
        self, actor: Principal, product_id: str, changes: ProductChanges
    ) -> Product:
        actor.require(STAFF_ROLES, Scope.PRODUCTS_WRITE)
        if changes.price is not None:
            self.require_shop_currency("price.currency", changes.price.currency)

        async def change(uow: UnitOfWork) -> Product:
            product = await self._active(uow, product_id)
            product.change_details(
                self._clock.now(),
                name=changes.name,
                description=changes.description,
                price=changes.price,
                category=changes.category,
                inventory_count=changes.inventory_count,
                sku=changes.sku,
            )
            try:
                await uow.products.save(product)
            except DuplicateRecord:
                raise _sku_taken(product.sku) from None
            await record_audit(
                uow,
                self._ids,
                self._clock,
                actor,
                "product.change",
                ("product", product_id),
                {k: v for k, v in _product_summary(changes).items() if v is not None},
            )
            return product

        changed = await in_transaction(self._uow_factory, change)
        await self._changed()
        return changed

    async def archive_product(self, actor: Principal, product_id: str) -> None:
        """Take a product out of listings and carts; orders keep their copy of it."""
        actor.require(ADMIN_ONLY)

        async def archive(uow: UnitOfWork) -> None:
            product = await self._active(uow, product_id)
            product.archive(self._clock.now())
            await uow.products.save(product)
            await record_audit(
                uow, self._ids, self._clock, actor, "product.archive", ("product", product_id)
            )

        await in_transaction(self._uow_factory, archive)
        await self._changed()

    async def adjust_inventory(
        self, actor: Principal, product_id: str, delta: int, *, reason: str | None = None
    ) -> Product:
        """Restock (positive delta) or correct (negative); never below zero. `reason` goes
        to the audit trail."""
        actor.require(STAFF_ROLES, Scope.PRODUCTS_WRITE)

        async def adjust(uow: UnitOfWork) -> Product:
            product = await self._active(uow, product_id)
            product.adjust_inventory(delta, self._clock.now())
            await uow.products.save(product)
            await record_audit(
                uow,
                self._ids,
                self._clock,
                actor,
                "product.adjust_inventory",
                ("product", product_id),
                {"delta": delta, "reason": reason, "inventory_count": product.inventory_count},
            )
            return product

        adjusted = await in_transaction(self._uow_factory, adjust)
        await self._changed()
        return adjusted

    @staticmethod
    async def _active(uow: UnitOfWork, product_id: str) -> Product:
        product = await uow.products.get(product_id, for_update=True)
        if product is None or product.is_archived:
            raise NotFound("product", product_id)
        return product
