"""Every committed catalog change bumps the catalog's generation in the cache, so that
answers cached under the previous generation are never served again."""

from __future__ import annotations

import pytest

from application.catalog import CATALOG_GENERATION, Catalog, NewProduct, ProductChanges
from domain.errors import NotFound
from domain.money import Money
from entrypoints.container import Container
from tests.application.shopping import Account

LAMP = NewProduct("Desk lamp", "Warm light", Money(4500, "USD"), 3, "Lighting")


async def generation(shop: Container) -> int:
    value = await shop.cache().get(CATALOG_GENERATION)
    return int(value or 0)


async def test_each_product_change_bumps_the_generation_once(
    shop: Container, staff: Account, admin: Account
) -> None:
    catalog = shop.catalog()
    seen = [await generation(shop)]
    lamp = await catalog.create_product(staff.principal, LAMP)
    seen.append(await generation(shop))
    await catalog.change_product(staff.principal, lamp.id, ProductChanges(price=Money(3900, "USD")))
    seen.append(await generation(shop))
    await catalog.adjust_inventory(staff.principal, lamp.id, 5)
    seen.append(await generation(shop))
    await catalog.archive_product(admin.principal, lamp.id)
    seen.append(await generation(shop))

    assert seen == [0, 1, 2, 3, 4]


async def test_a_change_that_fails_leaves_the_generation_alone(
    shop: Container, staff: Account
) -> None:
    with pytest.raises(NotFound):
        await shop.catalog().adjust_inventory(staff.principal, "no-such-product", 1)

    assert await generation(shop) == 0


async def test_a_catalog_without_a_cache_still_works(shop: Container, staff: Account) -> None:
    catalog = Catalog(shop.unit_of_work(), shop.clock(), shop.ids(), currency="USD")

    lamp = await catalog.create_product(staff.principal, LAMP)

    assert (await catalog.get_product(lamp.id)).name == "Desk lamp"
