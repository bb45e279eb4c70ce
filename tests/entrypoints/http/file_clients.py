"""File storage for the e2e tests, and the client side of its presigned URLs.

`local`: the embedded default's LocalFileStorage, whose URLs point at the app's own
/files route (reached through the test client). `s3`: S3FileStorage on a real moto
server, reached over loopback HTTP like a browser would reach S3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from adapters.inprocess.local_file_storage import LocalFileStorage
from adapters.s3_storage.file_storage import S3FileStorage
from application.ports.storage import FileStorage
from entrypoints.container import Container
from tests.entrypoints.http.shop_api import Client
from tests.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, MotoServer

TEST_SERVER = "http://testserver.local"


def use_local_files(container: Container, folder: Path) -> LocalFileStorage:
    storage = LocalFileStorage(
        folder, secret="f" * 32, clock=container.clock(), base_url=f"{TEST_SERVER}/files"
    )
    container.file_storage.override(providers.Object(storage))
    return storage


def use_s3_files(container: Container, moto: MotoServer, bucket: str) -> S3FileStorage:
    storage = S3FileStorage(
        bucket,
        region=REGION,
        endpoint_url=moto.url,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )
    container.file_storage.override(providers.Object(storage))
    return storage


def files_for(request: pytest.FixtureRequest, container: Container, kind: str) -> FileStorage:
    if kind == "local":
        return use_local_files(container, request.getfixturevalue("tmp_path") / "files")
    moto: MotoServer = request.getfixturevalue("moto_server")
    return use_s3_files(container, moto, request.getfixturevalue("s3_bucket"))


async def send_to(
    client: Client, url: str, *, method: str = "GET", **kwargs: Any
) -> httpx.Response:
    """Follow a presigned URL: the app's own /files through the test client, anything
    else (S3) over the network."""
    if url.startswith(TEST_SERVER):
        return await client.request(method, url, **kwargs)
    async with httpx.AsyncClient() as outside:
        return await outside.request(method, url, **kwargs)


async def upload(
    client: Client, presigned: dict[str, Any], data: bytes, **headers: str
) -> httpx.Response:
    """PUT `data` as a presigned upload says (its headers, overridden by `headers`)."""
    return await send_to(
        client,
        presigned["upload_url"],
        method=presigned["upload_method"],
        content=data,
        headers={**presigned["upload_headers"], **headers},
    )
