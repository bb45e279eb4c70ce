"""`hexmart serve --demo` seeding: a demo catalog in stock and a demo admin, idempotent."""

from __future__ import annotations

import stat
from pathlib import Path

from application.catalog import ProductQuery
from application.ports.persistence import PageRequest
from entrypoints.demo import DEMO_ADMIN_EMAIL, DemoAdmin, demo_admin, seed_demo_shop
from entrypoints.testing import in_memory_container

ADMIN = DemoAdmin(email=DEMO_ADMIN_EMAIL, password="demo admin passphrase")


async def test_the_demo_shop_has_about_fifty_products_in_stock_in_a_few_categories() -> None:
    shop = in_memory_container()

    created = await seed_demo_shop(shop, ADMIN)

    page = await shop.catalog().list_products(ProductQuery(page=PageRequest(limit=100)))
    products = page.items
    assert created == len(products) >= 45
    assert len({p.category for p in products}) >= 3
    assert all(p.inventory_count > 0 for p in products)
    assert len({p.name for p in products}) == len(products)


async def test_seeding_twice_changes_nothing() -> None:
    shop = in_memory_container()
    await seed_demo_shop(shop, ADMIN)

    again = await seed_demo_shop(shop, ADMIN)

    assert again == 0
    page = await shop.catalog().list_products(ProductQuery(page=PageRequest(limit=100)))
    assert len(page.items) == 50


async def test_the_demo_admin_can_sign_in() -> None:
    shop = in_memory_container()
    await seed_demo_shop(shop, ADMIN)

    tokens = await shop.authentication().login(email=ADMIN.email, password=ADMIN.password)

    assert tokens.user.role == "admin"


def test_the_demo_password_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = demo_admin(tmp_path / "var")
    second = demo_admin(tmp_path / "var")

    assert first == second
    assert len(first.password) >= 12
    mode = (tmp_path / "var" / "demo-admin-password").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
