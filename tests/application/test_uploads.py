"""Uploads: any signed-in user announces a file and gets a presigned upload; the owner (or
an admin) gets it back with a short-lived download URL; anyone else finds nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dependency_injector import providers

from adapters.fakes.file_storage import InMemoryFileStorage
from application.ports.errors import ServiceUnavailable
from application.ports.storage import StoredObject
from application.uploads import RequestedUpload
from domain.errors import InvalidValue, NotFound, PermissionDenied
from entrypoints.container import Container
from tests.application.shopping import Account, KeyIssuer, clock

JPEG = b"\xff\xd8\xff\xe0" + bytes(500)


def storage(shop: Container) -> InMemoryFileStorage:
    files = shop.file_storage()
    assert isinstance(files, InMemoryFileStorage)
    return files


async def announce(
    shop: Container, who: Account, filename: str = "../My Holiday Photo.JPG", size: int = 504
) -> RequestedUpload:
    return await shop.uploads().request_upload(who.principal, filename, "image/jpeg", size)


async def test_the_owner_gets_the_uploaded_file_back(shop: Container, customer: Account) -> None:
    requested = await announce(shop, customer)
    assert requested.presigned.method == "PUT"
    assert requested.presigned.expires_at == clock(shop).now() + timedelta(minutes=15)
    key = storage(shop).key_from_url(requested.presigned.url)
    assert key == f"uploads/{customer.id}/{requested.id}/My_Holiday_Photo.JPG"
    storage(shop).put(key, JPEG, "image/jpeg")

    view = await shop.uploads().get_upload(customer.principal, requested.id)

    assert view.upload.filename == "../My Holiday Photo.JPG"
    assert (view.upload.content_type, view.upload.size) == ("image/jpeg", 504)
    assert view.upload.owner_id == customer.id
    assert view.upload.completed_at == clock(shop).now()
    assert storage(shop).get(storage(shop).key_from_url(view.download_url)) == JPEG
    assert f"expires={int((clock(shop).now() + timedelta(minutes=5)).timestamp())}" in (
        view.download_url
    )


async def test_an_upload_not_sent_yet_is_not_completed(shop: Container, customer: Account) -> None:
    requested = await announce(shop, customer)
    view = await shop.uploads().get_upload(customer.principal, requested.id)
    assert not view.upload.is_completed


async def test_a_file_of_another_size_than_announced_does_not_complete_the_upload(
    shop: Container, customer: Account
) -> None:
    requested = await announce(shop, customer)
    storage(shop).put(storage(shop).key_from_url(requested.presigned.url), JPEG[:-1], "image/jpeg")
    view = await shop.uploads().get_upload(customer.principal, requested.id)
    assert not view.upload.is_completed


async def test_an_admin_sees_anyones_upload(
    shop: Container, customer: Account, admin: Account
) -> None:
    requested = await announce(shop, customer)
    view = await shop.uploads().get_upload(admin.principal, requested.id)
    assert view.upload.id == requested.id


async def test_another_user_or_staff_finds_nothing(
    shop: Container, customer: Account, other_customer: Account, staff: Account
) -> None:
    requested = await announce(shop, customer)
    for who in (other_customer, staff):
        with pytest.raises(NotFound):
            await shop.uploads().get_upload(who.principal, requested.id)
    with pytest.raises(NotFound):
        await shop.uploads().get_upload(customer.principal, "no-such-upload")


async def test_api_keys_cannot_upload(shop: Container, api_key: KeyIssuer) -> None:
    key = await api_key("products:write")
    with pytest.raises(PermissionDenied):
        await shop.uploads().request_upload(key, "a.png", "image/png", 10)


@pytest.mark.parametrize(
    ("filename", "content_type", "size", "field"),
    [
        ("a.html", "text/html", 10, "content_type"),
        ("a.png", "image/png", 0, "size"),
        ("a.png", "image/png", -1, "size"),
        ("a.png", "image/png", 10 * 1024 * 1024 + 1, "size"),
        ("", "image/png", 10, "filename"),
        ("a\x00.png", "image/png", 10, "filename"),
        ("a" * 256, "image/png", 10, "filename"),
    ],
)
async def test_what_may_not_be_uploaded_is_invalid(
    shop: Container, customer: Account, filename: str, content_type: str, size: int, field: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        await shop.uploads().request_upload(customer.principal, filename, content_type, size)
    assert refused.value.field == field


# --- abandoned uploads ----------------------------------------------------------------------

# The upload URL lasts 15 minutes; an upload is abandoned an hour after that.
PAST_ABANDONMENT = timedelta(minutes=15) + timedelta(hours=1) + timedelta(seconds=1)


async def test_an_upload_never_sent_is_forgotten_once_abandoned(
    shop: Container, customer: Account
) -> None:
    requested = await announce(shop, customer)
    clock(shop).advance(PAST_ABANDONMENT - timedelta(seconds=2))
    assert await shop.uploads().purge_abandoned() == 0  # not abandoned yet

    clock(shop).advance(timedelta(seconds=2))
    assert await shop.uploads().purge_abandoned() == 1

    with pytest.raises(NotFound):
        await shop.uploads().get_upload(customer.principal, requested.id)
    assert await shop.uploads().purge_abandoned() == 0


async def test_a_file_other_than_announced_is_deleted_with_its_abandoned_upload(
    shop: Container, customer: Account
) -> None:
    requested = await announce(shop, customer)
    key = storage(shop).key_from_url(requested.presigned.url)
    storage(shop).put(key, JPEG[:-1], "image/jpeg")
    clock(shop).advance(PAST_ABANDONMENT)

    assert await shop.uploads().purge_abandoned() == 1

    assert await storage(shop).head(key) is None
    with pytest.raises(NotFound):
        await shop.uploads().get_upload(customer.principal, requested.id)


async def test_a_file_that_arrived_as_announced_completes_its_upload_instead(
    shop: Container, customer: Account
) -> None:
    requested = await announce(shop, customer)
    key = storage(shop).key_from_url(requested.presigned.url)
    storage(shop).put(key, JPEG, "image/jpeg")  # sent, but its owner never asked again
    clock(shop).advance(PAST_ABANDONMENT)

    assert await shop.uploads().purge_abandoned() == 0

    view = await shop.uploads().get_upload(customer.principal, requested.id)
    assert view.upload.is_completed
    assert storage(shop).get(key) == JPEG


async def test_completed_uploads_are_never_forgotten(shop: Container, customer: Account) -> None:
    requested = await announce(shop, customer)
    storage(shop).put(storage(shop).key_from_url(requested.presigned.url), JPEG, "image/jpeg")
    await shop.uploads().get_upload(customer.principal, requested.id)  # completes it
    clock(shop).advance(timedelta(days=365))

    assert await shop.uploads().purge_abandoned() == 0
    assert (await shop.uploads().get_upload(customer.principal, requested.id)).upload.is_completed


async def test_abandoned_uploads_go_in_batches(shop: Container, customer: Account) -> None:
    for n in range(5):
        await announce(shop, customer, filename=f"photo-{n}.jpg")
    clock(shop).advance(PAST_ABANDONMENT)

    assert await shop.uploads().purge_abandoned(batch=2) == 2
    assert await shop.uploads().purge_abandoned(batch=2) == 2
    assert await shop.uploads().purge_abandoned(batch=2) == 1
    assert await shop.uploads().purge_abandoned(batch=2) == 0


class _StorageFailingFor:
    """The shop's storage, but unreachable for one key."""

    def __init__(self, inner: InMemoryFileStorage, failing_key: str) -> None:
        self.inner = inner
        self.failing_key = failing_key

    async def head(self, key: str) -> StoredObject | None:
        if key == self.failing_key:
            raise ServiceUnavailable("file storage: connection reset")
        return await self.inner.head(key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)


async def test_an_upload_storage_fails_for_is_kept_and_the_others_still_go(
    shop: Container, customer: Account
) -> None:
    first = await announce(shop, customer, filename="first.jpg")
    await announce(shop, customer, filename="second.jpg")
    failing = _StorageFailingFor(storage(shop), storage(shop).key_from_url(first.presigned.url))
    clock(shop).advance(PAST_ABANDONMENT)

    with shop.file_storage.override(providers.Object(failing)):
        assert await shop.uploads().purge_abandoned() == 1  # the second

    assert (await shop.uploads().get_upload(customer.principal, first.id)).upload.id == first.id
    assert await shop.uploads().purge_abandoned() == 1  # the first, once storage answers
    with pytest.raises(NotFound):
        await shop.uploads().get_upload(customer.principal, first.id)


async def test_a_negative_abandonment_age_is_refused(shop: Container) -> None:
    with pytest.raises(ValueError, match="older_than must not be negative"):
        await shop.uploads().purge_abandoned(timedelta(seconds=-1))
