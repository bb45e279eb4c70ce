"""`hexmart serve --demo`: a small demo shop (a few categories, ~50 products in stock) and a
demo administrator, so a newcomer can try the whole flow with curl at once.

Seeding is idempotent: products are matched by name within their category, and the demo
admin is created only if its email is free. The admin's password is generated once and
kept in the data folder (mode 0600), so the credentials printed at start-up stay right
across restarts of a persistent database.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from application.catalog import NewProduct, ProductQuery
from application.ports.persistence import PageRequest
from application.principal import Principal
from domain.errors import EmailAlreadyRegistered
from domain.money import Money
from domain.users import Role
from entrypoints.container import Container

DEMO_ADMIN_EMAIL = "admin@demo.hexmart.test"
_PASSWORD_FILE = "demo-admin-password"

# category -> (adjectives, nouns, base price in minor units)
_CATALOG: dict[str, tuple[tuple[str, ...], tuple[str, ...], int]] = {
    "kitchen": (("Enamel", "Stoneware"), ("Mug", "Teapot", "Bowl", "Plate", "Jug"), 1200),
    "books": (("Pocket", "Illustrated"), ("Atlas", "Cookbook", "Novel", "Almanac", "Guide"), 900),
    "garden": (
        ("Copper", "Oak"),
        ("Trowel", "Planter", "Watering Can", "Bird Feeder", "Rake"),
        1500,
    ),
    "office": (("Walnut", "Recycled"), ("Notebook", "Desk Tray", "Pen Pot", "Lamp", "Clock"), 800),
    "toys": (("Wooden", "Knitted"), ("Train", "Puzzle", "Kite", "Yo-yo", "Spinning Top"), 1000),
}


@dataclass(frozen=True, slots=True)
class DemoAdmin:
    email: str
    password: str


def demo_admin(data_dir: Path) -> DemoAdmin:
    """The demo admin's credentials; the password is made once and kept in `data_dir`."""
    path = data_dir / _PASSWORD_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(12))
    return DemoAdmin(email=DEMO_ADMIN_EMAIL, password=path.read_text().strip())


def demo_products(currency: str) -> list[NewProduct]:
    products = []
    for category, (adjectives, nouns, base_price) in _CATALOG.items():
        for a, adjective in enumerate(adjectives):
            for n, noun in enumerate(nouns):
                products.append(
                    NewProduct(
                        name=f"{adjective} {noun}",
                        description=f"A {adjective.lower()} {noun.lower()} from the demo shop.",
                        price=Money(base_price + 250 * n + 100 * a - 1, currency),
                        inventory_count=20 + 7 * n + 3 * a,
                        category=category,
                    )
                )
    return products


async def seed_demo_shop(container: Container, admin: DemoAdmin) -> int:
    """Create the demo admin and whatever demo products are missing; returns how many
    products were created."""
    system = Principal.system()
    # Seeded before: the account (and the password file it was made with) already match.
    with contextlib.suppress(EmailAlreadyRegistered):
        await container.user_accounts().create_user(
            system,
            email=admin.email,
            password=admin.password,
            full_name="Demo Administrator",
            role=Role.ADMIN,
        )
    catalog = container.catalog()
    created = 0
    for product in demo_products(container.settings().shop.currency):
        if not await _exists(container, product):
            await catalog.create_product(system, product)
            created += 1
    return created


async def _exists(container: Container, product: NewProduct) -> bool:
    page = await container.catalog().list_products(
        ProductQuery(text=product.name, category=product.category, page=PageRequest(limit=100))
    )
    return any(existing.name == product.name for existing in page.items)
