"""Product images: staff request a presigned upload, send the file, complete it; the image
then belongs to the product, and deleting it removes the object too."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.fakes.file_storage import InMemoryFileStorage
from application.catalog import CATALOG_GENERATION
from application.uploads import RequestedUpload
from domain.catalog import Product
from domain.errors import Conflict, InvalidValue, NotFound, PermissionDenied, RuleViolation
from entrypoints.container import Container
from tests.application.shopping import Account, KeyIssuer, ProductFactory, clock

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


def storage(shop: Container) -> InMemoryFileStorage:
    files = shop.file_storage()
    assert isinstance(files, InMemoryFileStorage)
    return files


def send(shop: Container, requested: RequestedUpload, data: bytes, content_type: str) -> str:
    """Play the client: PUT `data` to the presigned URL. Returns the object key."""
    key = storage(shop).key_from_url(requested.presigned.url)
    storage(shop).put(key, data, content_type)
    return key


async def request(
    shop: Container, who: Account, product: Product, size: int = len(PNG), **overrides: str
) -> RequestedUpload:
    return await shop.product_images().request_image_upload(
        who.principal,
        product.id,
        overrides.get("filename", "front view.png"),
        overrides.get("content_type", "image/png"),
        size,
    )


async def test_an_uploaded_image_shows_on_the_product(
    shop: Container, staff: Account, mug: Product
) -> None:
    requested = await request(shop, staff, mug)
    assert requested.presigned.method == "PUT"
    assert requested.presigned.headers == {"Content-Type": "image/png"}
    assert requested.presigned.expires_at == clock(shop).now() + timedelta(minutes=15)
    key = send(shop, requested, PNG, "image/png")
    assert key == f"products/{mug.id}/images/{requested.id}"

    completed = await shop.product_images().complete_image_upload(
        staff.principal, mug.id, requested.id
    )

    (image,) = completed.images
    assert (image.id, image.storage_key, image.content_type) == (requested.id, key, "image/png")
    seen = await shop.catalog().get_product(mug.id)
    assert [i.id for i in seen.images] == [requested.id]
    urls = await shop.product_images().image_urls([seen])
    assert storage(shop).get(storage(shop).key_from_url(urls[image.id])) == PNG


async def test_completing_twice_adds_the_image_once(
    shop: Container, admin: Account, mug: Product
) -> None:
    requested = await request(shop, admin, mug)
    send(shop, requested, PNG, "image/png")
    images = shop.product_images()
    await images.complete_image_upload(admin.principal, mug.id, requested.id)
    again = await images.complete_image_upload(admin.principal, mug.id, requested.id)
    assert [i.id for i in again.images] == [requested.id]


async def test_completing_before_the_upload_is_a_conflict(
    shop: Container, staff: Account, mug: Product
) -> None:
    requested = await request(shop, staff, mug)
    with pytest.raises(Conflict, match="not uploaded yet"):
        await shop.product_images().complete_image_upload(staff.principal, mug.id, requested.id)
    assert (await shop.catalog().get_product(mug.id)).images == []


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(PNG + b"extra", "image/png"), (PNG, "image/jpeg"), (PNG[:-1], "text/html")],
)
async def test_a_file_of_another_size_or_type_than_announced_is_refused_and_removed(
    shop: Container, staff: Account, mug: Product, data: bytes, content_type: str
) -> None:
    requested = await request(shop, staff, mug)
    key = send(shop, requested, data, content_type)
    with pytest.raises(RuleViolation, match="not the size and content type announced"):
        await shop.product_images().complete_image_upload(staff.principal, mug.id, requested.id)
    assert storage(shop).get(key) is None
    assert (await shop.catalog().get_product(mug.id)).images == []


async def test_an_image_of_another_product_or_a_made_up_id_is_not_found(
    shop: Container, staff: Account, mug: Product
) -> None:
    requested = await request(shop, staff, mug)
    send(shop, requested, PNG, "image/png")
    images = shop.product_images()
    with pytest.raises(NotFound):
        await images.complete_image_upload(staff.principal, mug.id, "not-an-image-id")
    with pytest.raises(NotFound):
        await images.complete_image_upload(staff.principal, "no-such-product", requested.id)


async def test_an_image_requested_for_one_product_cannot_be_completed_on_another(
    shop: Container, staff: Account, mug: Product, product: ProductFactory
) -> None:
    lamp = await product("Lamp")
    requested = await request(shop, staff, mug)
    send(shop, requested, PNG, "image/png")
    with pytest.raises(Conflict, match="not uploaded yet"):
        await shop.product_images().complete_image_upload(staff.principal, lamp.id, requested.id)


@pytest.mark.parametrize(
    ("content_type", "size", "field"),
    [
        ("text/html", 100, "content_type"),
        ("image/svg+xml", 100, "content_type"),
        ("image/png", 0, "size"),
        ("image/png", 10 * 1024 * 1024 + 1, "size"),
    ],
)
async def test_types_outside_the_list_and_sizes_over_the_limit_are_invalid(
    shop: Container, staff: Account, mug: Product, content_type: str, size: int, field: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        await request(shop, staff, mug, size, content_type=content_type)
    assert refused.value.field == field


async def test_the_allowed_types_are_matched_without_regard_to_case(
    shop: Container, staff: Account, mug: Product
) -> None:
    requested = await request(shop, staff, mug, content_type=" Image/PNG ")
    assert requested.presigned.headers == {"Content-Type": "image/png"}


async def test_an_empty_file_name_is_invalid(shop: Container, staff: Account, mug: Product) -> None:
    with pytest.raises(InvalidValue, match="filename"):
        await request(shop, staff, mug, filename="  ")


async def test_an_unknown_or_archived_product_takes_no_images(
    shop: Container, staff: Account, admin: Account, mug: Product
) -> None:
    with pytest.raises(NotFound):
        await shop.product_images().request_image_upload(
            staff.principal, "no-such-product", "a.png", "image/png", 10
        )
    await shop.catalog().archive_product(admin.principal, mug.id)
    with pytest.raises(NotFound):
        await request(shop, staff, mug)


async def test_customers_and_api_keys_may_not_touch_images(
    shop: Container, customer: Account, staff: Account, mug: Product, api_key: KeyIssuer
) -> None:
    writer = await api_key("products:write")
    requested = await request(shop, staff, mug)
    images = shop.product_images()
    for who in (customer.principal, writer):
        with pytest.raises(PermissionDenied):
            await images.request_image_upload(who, mug.id, "a.png", "image/png", 10)
        with pytest.raises(PermissionDenied):
            await images.complete_image_upload(who, mug.id, requested.id)
        with pytest.raises(PermissionDenied):
            await images.delete_image(who, mug.id, requested.id)


async def test_a_deleted_image_leaves_the_product_and_storage(
    shop: Container, staff: Account, mug: Product
) -> None:
    requested = await request(shop, staff, mug)
    key = send(shop, requested, PNG, "image/png")
    images = shop.product_images()
    await images.complete_image_upload(staff.principal, mug.id, requested.id)

    await images.delete_image(staff.principal, mug.id, requested.id)

    assert (await shop.catalog().get_product(mug.id)).images == []
    assert storage(shop).get(key) is None
    with pytest.raises(NotFound):
        await images.delete_image(staff.principal, mug.id, requested.id)


async def test_deleting_an_unknown_image_is_not_found(
    shop: Container, staff: Account, mug: Product
) -> None:
    with pytest.raises(NotFound):
        await shop.product_images().delete_image(staff.principal, mug.id, "nope")
    with pytest.raises(NotFound):
        await shop.product_images().delete_image(staff.principal, "no-product", "nope")


async def test_image_changes_invalidate_cached_catalog_answers(
    shop: Container, staff: Account, mug: Product
) -> None:
    cache = shop.cache()
    before = int(await cache.get(CATALOG_GENERATION) or 0)
    requested = await request(shop, staff, mug)
    send(shop, requested, PNG, "image/png")
    await shop.product_images().complete_image_upload(staff.principal, mug.id, requested.id)
    after_add = int(await cache.get(CATALOG_GENERATION) or 0)
    await shop.product_images().delete_image(staff.principal, mug.id, requested.id)
    after_delete = int(await cache.get(CATALOG_GENERATION) or 0)
    assert before < after_add < after_delete
