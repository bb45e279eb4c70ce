"""POST/DELETE /products/{id}/images: presigned uploads of product images, for staff.

The round trip runs on both databases and both kinds of file storage: the embedded
default's local folder behind the app's /files route, and S3 (a real moto server)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.system.clock import FixedClock
from application.ports.storage import FileStorage
from entrypoints.container import Container
from tests.entrypoints.http.file_clients import files_for, send_to, upload, use_local_files
from tests.entrypoints.http.shop_api import Account, Client, assert_problem, error_fields

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def announce(data: bytes = PNG, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"filename": "front.png", "content_type": "image/png"}
    body["size"] = len(data)
    body.update(overrides)
    return body


@pytest.fixture(params=["local", "s3"])
def files(request: pytest.FixtureRequest, container: Container) -> FileStorage:
    return files_for(request, container, request.param)


@pytest.fixture
def local_files(container: Container, tmp_path: Path) -> FileStorage:
    return use_local_files(container, tmp_path / "files")


async def request_upload(
    client: Client, who: Account, product_id: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/products/{product_id}/images", json=announce(**overrides), headers=who.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def complete(client: Client, who: Account, product_id: str, image_id: str) -> Any:
    return await client.post(
        f"/products/{product_id}/images/{image_id}/complete", headers=who.headers
    )


async def test_an_uploaded_image_shows_on_the_product_and_downloads(
    client: Client, staff: Account, mug: dict[str, Any], files: FileStorage
) -> None:
    presigned = await request_upload(client, staff, mug["id"])
    assert set(presigned) == {
        "image_id",
        "upload_url",
        "upload_method",
        "upload_headers",
        "expires_at",
    }
    assert presigned["upload_method"] == "PUT"
    assert presigned["upload_headers"] == {"Content-Type": "image/png"}
    sent = await upload(client, presigned, PNG)
    assert sent.status_code == 200, sent.text

    completed = await complete(client, staff, mug["id"], presigned["image_id"])

    assert completed.status_code == 200, completed.text
    (image,) = completed.json()["images"]
    assert image["id"] == presigned["image_id"]
    product = (await client.get(f"/products/{mug['id']}")).json()
    assert [i["id"] for i in product["images"]] == [presigned["image_id"]]
    listed = (await client.get("/products")).json()["items"]
    assert [i["id"] for i in listed[0]["images"]] == [presigned["image_id"]]
    downloaded = await send_to(client, product["images"][0]["url"])
    assert downloaded.status_code == 200
    assert downloaded.content == PNG
    assert downloaded.headers["content-type"] == "image/png"


async def test_a_deleted_image_is_gone_from_the_product_and_storage(
    client: Client, staff: Account, mug: dict[str, Any], files: FileStorage
) -> None:
    presigned = await request_upload(client, staff, mug["id"])
    await upload(client, presigned, PNG)
    url = (await complete(client, staff, mug["id"], presigned["image_id"])).json()["images"][0][
        "url"
    ]

    response = await client.delete(
        f"/products/{mug['id']}/images/{presigned['image_id']}", headers=staff.headers
    )

    assert response.status_code == 204
    assert (await client.get(f"/products/{mug['id']}")).json()["images"] == []
    assert (await send_to(client, url)).status_code == 404
    again = await client.delete(
        f"/products/{mug['id']}/images/{presigned['image_id']}", headers=staff.headers
    )
    assert_problem(again, 404)


async def test_completing_before_uploading_is_a_conflict(
    client: Client, admin: Account, mug: dict[str, Any], local_files: FileStorage
) -> None:
    presigned = await request_upload(client, admin, mug["id"])
    response = await complete(client, admin, mug["id"], presigned["image_id"])
    assert "not uploaded yet" in assert_problem(response, 409)["detail"]


async def test_an_upload_of_another_size_or_type_is_refused_at_the_door(
    client: Client, staff: Account, mug: dict[str, Any], local_files: FileStorage
) -> None:
    """The embedded default's /files route checks the signed type and exact size."""
    presigned = await request_upload(client, staff, mug["id"])
    assert_problem(await upload(client, presigned, PNG + b"more"), 403)
    assert_problem(await upload(client, presigned, PNG, **{"Content-Type": "text/html"}), 403)
    assert_problem(await complete(client, staff, mug["id"], presigned["image_id"]), 409)


async def test_an_upload_of_another_size_or_type_is_refused_on_completion(
    client: Client,
    staff: Account,
    mug: dict[str, Any],
    request: pytest.FixtureRequest,
    container: Container,
) -> None:
    """S3 presigned URLs do not pin the size or type: completion checks the object."""
    files_for(request, container, "s3")
    presigned = await request_upload(client, staff, mug["id"])
    sent = await upload(client, presigned, PNG + b"more", **{"Content-Type": "text/html"})
    assert sent.status_code == 200

    response = await complete(client, staff, mug["id"], presigned["image_id"])

    assert_problem(response, 422)
    assert (await client.get(f"/products/{mug['id']}")).json()["images"] == []


async def test_a_tampered_or_expired_file_url_is_refused(
    client: Client, staff: Account, mug: dict[str, Any], container: Container, tmp_path: Path
) -> None:
    use_local_files(container, tmp_path / "files")
    presigned = await request_upload(client, staff, mug["id"])
    tampered = dict(presigned, upload_url=presigned["upload_url"].replace("sig=", "sig=A"))
    assert_problem(await upload(client, tampered, PNG), 403)
    clock = container.clock()
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(minutes=16))
    assert_problem(await upload(client, presigned, PNG), 403)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"content_type": "text/html"}, "content_type"),
        ({"size": 10 * 1024 * 1024 + 1}, "size"),
        ({"size": 0}, "size"),
        ({"filename": ""}, "filename"),
    ],
)
async def test_types_outside_the_list_and_sizes_over_the_limit_are_refused(
    client: Client,
    staff: Account,
    mug: dict[str, Any],
    local_files: FileStorage,
    overrides: dict[str, Any],
    field: str,
) -> None:
    response = await client.post(
        f"/products/{mug['id']}/images", json=announce(**overrides), headers=staff.headers
    )
    assert error_fields(response) == {field}


async def test_customers_may_not_touch_images_and_strangers_must_sign_in(
    client: Client, customer: Account, staff: Account, mug: dict[str, Any], local_files: FileStorage
) -> None:
    presigned = await request_upload(client, staff, mug["id"])
    base = f"/products/{mug['id']}/images"
    image = f"{base}/{presigned['image_id']}"
    for headers, status in ((customer.headers, 403), ({}, 401)):
        assert_problem(await client.post(base, json=announce(), headers=headers), status)
        assert_problem(await client.post(f"{image}/complete", headers=headers), status)
        assert_problem(await client.delete(image, headers=headers), status)


async def test_an_unknown_product_or_image_is_not_found(
    client: Client, staff: Account, mug: dict[str, Any], local_files: FileStorage
) -> None:
    missing = await client.post(
        "/products/no-such-product/images", json=announce(), headers=staff.headers
    )
    assert_problem(missing, 404)
    assert_problem(await complete(client, staff, mug["id"], "made-up"), 404)
