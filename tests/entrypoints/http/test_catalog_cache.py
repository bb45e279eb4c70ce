"""GET /products and GET /products/{id} come from the catalog response cache: a product
change shows at once, stock taken by orders shows within the cache's TTL, and a cache that
is down only means the database answers."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers

from adapters.redis_store.cache import RedisCache
from adapters.redis_store.client import create_redis_client
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.entrypoints.http.shop_api import Account, Client, create_product, place_order, serving
from tests.real_services import free_port


async def rename_behind_the_api(container: Container, product_id: str, name: str) -> None:
    """A change the catalog use cases never see (so the cache is not told)."""
    async with container.unit_of_work()() as uow:
        product = await uow.products.get(product_id, for_update=True)
        assert product is not None
        product.change_details(container.clock().now(), name=name)
        await uow.products.save(product)
        await uow.commit()


async def test_a_cached_product_shows_a_new_price_at_once(
    client: Client, container: Container, staff: Account, mug: dict[str, Any]
) -> None:
    path = f"/products/{mug['id']}"
    first = await client.get(path)
    listed = await client.get("/products", params={"category": "kitchen"})
    await rename_behind_the_api(container, mug["id"], "Renamed behind the API")
    cached = await client.get(path)
    cached_listing = await client.get("/products", params={"category": "kitchen"})

    changed = await client.patch(
        path, json={"price": {"amount": 999, "currency": "USD"}}, headers=staff.headers
    )
    after = await client.get(path)
    listed_after = await client.get("/products", params={"category": "kitchen"})

    assert first.json()["price"]["amount"] == 1200
    assert listed.json()["items"][0]["price"]["amount"] == 1200
    # Served from the cache: the change made behind the API does not show...
    assert cached.json() == first.json()
    assert cached_listing.json() == listed.json()
    assert changed.status_code == 200
    # ...but a change through the catalog shows on the very next read.
    assert after.json()["price"]["amount"] == 999
    assert after.json()["name"] == "Renamed behind the API"
    assert listed_after.json()["items"][0]["price"]["amount"] == 999


async def test_different_queries_are_cached_apart(
    client: Client, staff: Account, mug: dict[str, Any]
) -> None:
    lamp = await create_product(client, staff, name="Lamp", category="lighting")

    kitchen = await client.get("/products", params={"category": "kitchen"})
    lighting = await client.get("/products", params={"category": "lighting"})
    everything = await client.get("/products", params={"sort": "name"})

    assert [p["id"] for p in kitchen.json()["items"]] == [mug["id"]]
    assert [p["id"] for p in lighting.json()["items"]] == [lamp["id"]]
    assert [p["name"] for p in everything.json()["items"]] == ["Lamp", "Mug"]


async def test_stock_taken_by_an_order_shows_on_the_next_read(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    path = f"/products/{mug['id']}"
    before = await client.get(path)
    listed_before = await client.get("/products")
    await place_order(client, customer, mug["id"], quantity=3)
    after = await client.get(path)
    listed_after = await client.get("/products")

    assert before.json()["inventory_count"] == 10
    assert after.json()["inventory_count"] == 7
    assert [p["inventory_count"] for p in listed_before.json()["items"]] == [10]
    assert [p["inventory_count"] for p in listed_after.json()["items"]] == [7]


async def test_stock_released_by_a_cancellation_shows_on_the_next_read(
    client: Client, customer: Account, mug: dict[str, Any]
) -> None:
    path = f"/products/{mug['id']}"
    order = await place_order(client, customer, mug["id"], quantity=3)
    taken = await client.get(path)
    cancelled = await client.post(f"/orders/{order['id']}/cancel", headers=customer.headers)
    released = await client.get(path)

    assert cancelled.status_code == 200, cancelled.text
    assert taken.json()["inventory_count"] == 7
    assert released.json()["inventory_count"] == 10


async def test_with_the_cache_down_the_catalog_still_answers_and_changes(
    container: Container, staff: Account, mug: dict[str, Any]
) -> None:
    nobody_listens = create_redis_client(f"redis://127.0.0.1:{free_port()}/0")
    container.cache.override(providers.Object(RedisCache(nobody_listens)))
    app = create_app(container, background_jobs=False)
    try:
        async with serving(app) as client:
            listed = await client.get("/products")
            one = await client.get(f"/products/{mug['id']}")
            changed = await client.patch(
                f"/products/{mug['id']}",
                json={"price": {"amount": 1500, "currency": "USD"}},
                headers=staff.headers,
            )
            again = await client.get(f"/products/{mug['id']}")
    finally:
        await nobody_listens.aclose()

    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["items"]] == [mug["id"]]
    assert one.status_code == 200
    assert changed.status_code == 200
    assert again.json()["price"]["amount"] == 1500
