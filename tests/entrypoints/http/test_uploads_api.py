"""POST /uploads and GET /uploads/{id}: any signed-in user uploads a file; the owner and
admins get it back through a short-lived download URL; anyone else finds nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from application.ports.storage import FileStorage
from entrypoints.container import Container
from tests.entrypoints.http.file_clients import files_for, send_to, upload, use_local_files
from tests.entrypoints.http.shop_api import (
    Account,
    Client,
    assert_problem,
    error_fields,
    issue_api_key,
)

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4


@pytest.fixture(params=["local", "s3"])
def files(request: pytest.FixtureRequest, container: Container) -> FileStorage:
    return files_for(request, container, request.param)


@pytest.fixture
def local_files(container: Container, tmp_path: Path) -> FileStorage:
    return use_local_files(container, tmp_path / "files")


async def announce(client: Client, who: Account, **overrides: Any) -> dict[str, Any]:
    body = {"filename": "Holiday.jpg", "content_type": "image/jpeg", "size": len(JPEG)}
    response = await client.post("/uploads", json={**body, **overrides}, headers=who.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_the_owner_gets_the_uploaded_file_back(
    client: Client, customer: Account, files: FileStorage
) -> None:
    presigned = await announce(client, customer)
    assert set(presigned) == {
        "upload_id",
        "upload_url",
        "upload_method",
        "upload_headers",
        "expires_at",
    }
    pending = await client.get(f"/uploads/{presigned['upload_id']}", headers=customer.headers)
    assert pending.json()["uploaded"] is False
    assert (await upload(client, presigned, JPEG)).status_code == 200

    response = await client.get(f"/uploads/{presigned['upload_id']}", headers=customer.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("id", "filename", "content_type", "size", "uploaded")} == {
        "id": presigned["upload_id"],
        "filename": "Holiday.jpg",
        "content_type": "image/jpeg",
        "size": len(JPEG),
        "uploaded": True,
    }
    downloaded = await send_to(client, body["download_url"])
    assert downloaded.status_code == 200
    assert downloaded.content == JPEG


async def test_an_admin_sees_it_and_everyone_else_finds_nothing(
    client: Client,
    customer: Account,
    other_customer: Account,
    staff: Account,
    admin: Account,
    local_files: FileStorage,
) -> None:
    presigned = await announce(client, customer)
    path = f"/uploads/{presigned['upload_id']}"
    assert (await client.get(path, headers=admin.headers)).status_code == 200
    assert_problem(await client.get(path, headers=other_customer.headers), 404)
    assert_problem(await client.get(path, headers=staff.headers), 404)
    assert_problem(await client.get("/uploads/no-such-upload", headers=customer.headers), 404)
    assert_problem(await client.get(path), 401)


async def test_api_keys_and_strangers_cannot_upload(
    client: Client, admin: Account, local_files: FileStorage
) -> None:
    body = {"filename": "a.png", "content_type": "image/png", "size": 10}
    key = await issue_api_key(client, admin, "products:write")
    assert_problem(await client.post("/uploads", json=body, headers=key), 403)
    assert_problem(await client.post("/uploads", json=body), 401)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"content_type": "application/x-msdownload"}, "content_type"),
        ({"size": 10 * 1024 * 1024 + 1}, "size"),
        ({"filename": " "}, "filename"),
    ],
)
async def test_what_may_not_be_uploaded_is_refused(
    client: Client,
    customer: Account,
    local_files: FileStorage,
    overrides: dict[str, Any],
    field: str,
) -> None:
    body = {"filename": "a.png", "content_type": "image/png", "size": 10, **overrides}
    response = await client.post("/uploads", json=body, headers=customer.headers)
    assert error_fields(response) == {field}


async def test_a_wrong_size_is_refused_by_the_local_file_route(
    client: Client, customer: Account, local_files: FileStorage
) -> None:
    presigned = await announce(client, customer)
    assert_problem(await upload(client, presigned, JPEG[:-1]), 403)
    body = (await client.get(f"/uploads/{presigned['upload_id']}", headers=customer.headers)).json()
    assert body["uploaded"] is False
