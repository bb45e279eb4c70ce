from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from adapters.fakes.file_storage import InMemoryFileStorage
from adapters.inprocess.local_file_storage import LocalFileStorage
from adapters.s3_storage.file_storage import S3FileStorage
from adapters.system.clock import FixedClock
from application.ports.errors import ServiceUnavailable
from application.ports.storage import FileStorage, PresignedUpload
from tests.contract.file_storage_contract import FileStorageContract
from tests.real_services import free_port
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


# --- the check: a storage that cannot be used says so ---------------------------------------


def _s3(bucket: str, endpoint_url: str, **overrides: str) -> S3FileStorage:
    credentials = {"access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_ACCESS_KEY}
    return S3FileStorage(
        bucket, region=REGION, endpoint_url=endpoint_url, **{**credentials, **overrides}
    )


@pytest.mark.integration
async def test_an_s3_bucket_that_does_not_exist_fails_the_check(moto_server: MotoServer) -> None:
    with pytest.raises(ServiceUnavailable, match="no-such-bucket"):
        await _s3("no-such-bucket", moto_server.url).check()


@pytest.mark.integration
async def test_an_s3_endpoint_that_does_not_answer_fails_the_check() -> None:
    storage = _s3("hexmart", f"http://127.0.0.1:{free_port()}")
    with pytest.raises((ServiceUnavailable, TimeoutError)):
        await asyncio.wait_for(storage.check(), 10)


async def test_a_folder_that_cannot_be_written_fails_the_check(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    storage = LocalFileStorage(
        blocker / "files", secret="s" * 32, clock=FixedClock(datetime.now(UTC)), base_url=BASE_URL
    )
    with pytest.raises(ServiceUnavailable, match="file storage folder"):
        await storage.check()
