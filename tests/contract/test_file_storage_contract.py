from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from adapters.local.local_file_storage import LocalFileStorage
from adapters.memory.file_storage import InMemoryFileStorage
from adapters.s3_storage.file_storage import S3FileStorage
from application.ports.storage import FileStorage, PresignedUpload
from tests.contract.file_storage_contract import FileStorageContract
from tests.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, MotoServer

BASE_URL = "http://127.0.0.1:8000/files"


class TestInMemoryFileStorage(FileStorageContract):
    def make_storage(self) -> FileStorage:
        return InMemoryFileStorage(self.clock)

    async def upload_as_client(
        self, storage: FileStorage, upload: PresignedUpload, data: bytes
    ) -> None:
        assert isinstance(storage, InMemoryFileStorage)
        key = storage.key_from_url(upload.url)
        storage.put(key, data, upload.headers.get("Content-Type"))

    async def download_as_client(self, storage: FileStorage, url: str) -> bytes | None:
        assert isinstance(storage, InMemoryFileStorage)
        return storage.get(storage.key_from_url(url))


class TestLocalFileStorage(FileStorageContract):
    """The client side is what the app's /files route does with a request."""

    def make_storage(self) -> FileStorage:
        return LocalFileStorage(
            self.tmp_path / "files", secret="s" * 32, clock=self.clock, base_url=BASE_URL
        )

    async def upload_as_client(
        self, storage: FileStorage, upload: PresignedUpload, data: bytes
    ) -> None:
        assert isinstance(storage, LocalFileStorage)
        key, expires, sig = _parse(upload.url)
        content_type = upload.headers["Content-Type"]
        assert storage.verify_signature(
            key, expires, sig, upload.method, content_type=content_type, size=len(data)
        )
        await storage.write(key, data, content_type)

    async def download_as_client(self, storage: FileStorage, url: str) -> bytes | None:
        assert isinstance(storage, LocalFileStorage)
        key, expires, sig = _parse(url)
        assert storage.verify_signature(key, expires, sig, "GET")
        return await storage.read(key)


def _parse(url: str) -> tuple[str, str, str]:
    assert url.startswith(BASE_URL + "/")
    parts = urlsplit(url)
    key = unquote(parts.path.removeprefix(urlsplit(BASE_URL).path + "/"))
    query = parse_qs(parts.query)
    return key, query["expires"][0], query["sig"][0]


class TestS3FileStorage(FileStorageContract):
    """Against a real moto server; the client side is plain HTTP to the presigned URLs."""

    @pytest.fixture(autouse=True)
    def _bucket(self, moto_server: MotoServer, s3_bucket: str) -> None:
        self.moto = moto_server
        self.bucket = s3_bucket

    def make_storage(self) -> FileStorage:
        # S3 signs and expires by the wall clock: the contract's clock starts there too.
        self.clock.set(datetime.now(UTC))
        return S3FileStorage(
            self.bucket,
            region=REGION,
            endpoint_url=self.moto.url,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
        )

    async def upload_as_client(
        self, storage: FileStorage, upload: PresignedUpload, data: bytes
    ) -> None:
        async with httpx.AsyncClient() as client:
            response = await client.request(
                upload.method, upload.url, content=data, headers=upload.headers
            )
        assert response.status_code == 200, response.text

    async def download_as_client(self, storage: FileStorage, url: str) -> bytes | None:
        async with httpx.AsyncClient() as client:
            response = await client.get(url)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.content
