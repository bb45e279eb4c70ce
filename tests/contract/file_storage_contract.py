"""The FileStorage contract: presigned uploads and downloads, head, delete."""

from __future__ import annotations

import abc
from datetime import timedelta
from pathlib import Path

import pytest

from application.ports.storage import FileStorage, PresignedUpload, StoredObject
from tests.contract.time_control import TimedContract

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class FileStorageContract(TimedContract, abc.ABC):
    """Subclass with `make_storage` and the two client-side hooks that use presigned URLs
    the way a browser would. `self.clock` and `self.tmp_path` are fresh for each test."""

    tmp_path: Path

    @abc.abstractmethod
    def make_storage(self) -> FileStorage: ...

    @abc.abstractmethod
    async def upload_as_client(
        self, storage: FileStorage, upload: PresignedUpload, data: bytes
    ) -> None:
        """Send `data` to the presigned URL with its method and headers; fail if refused."""

    @abc.abstractmethod
    async def download_as_client(self, storage: FileStorage, url: str) -> bytes | None:
        """GET the presigned URL: the bytes, or None if there is no such object."""

    @pytest.fixture
    def storage(self, _set_up_time: None, tmp_path: Path) -> FileStorage:
        self.tmp_path = tmp_path
        return self.make_storage()

    async def upload(
        self, storage: FileStorage, key: str, data: bytes, content_type: str = "image/png"
    ) -> None:
        presigned = await storage.presign_upload(
            key, content_type=content_type, size=len(data), expires_in=timedelta(minutes=10)
        )
        await self.upload_as_client(storage, presigned, data)

    async def test_a_presigned_upload_says_how_and_until_when(self, storage: FileStorage) -> None:
        presigned = await storage.presign_upload(
            "products/p-1/front.png",
            content_type="image/png",
            size=len(PNG),
            expires_in=timedelta(minutes=10),
        )
        assert presigned.url
        assert presigned.method in {"PUT", "POST"}
        if presigned.expires_at is not None:
            now = self.clock.now()
            assert now < presigned.expires_at <= now + timedelta(minutes=10, seconds=1)

    async def test_an_uploaded_object_has_its_size_and_content_type(
        self, storage: FileStorage
    ) -> None:
        await self.upload(storage, "products/p-1/front.png", PNG)
        assert await storage.head("products/p-1/front.png") == StoredObject(
            key="products/p-1/front.png", size=len(PNG), content_type="image/png"
        )

    async def test_nothing_uploaded_under_a_key_heads_as_none(self, storage: FileStorage) -> None:
        assert await storage.head("products/p-1/never-uploaded.png") is None

    async def test_a_presigned_download_returns_the_uploaded_bytes(
        self, storage: FileStorage
    ) -> None:
        await self.upload(storage, "products/p-1/front.png", PNG)
        url = await storage.presign_download(
            "products/p-1/front.png", expires_in=timedelta(hours=1)
        )
        assert await self.download_as_client(storage, url) == PNG

    async def test_uploading_again_replaces_the_object(self, storage: FileStorage) -> None:
        await self.upload(storage, "avatars/u-1", PNG)
        await self.upload(storage, "avatars/u-1", b"GIF89a", content_type="image/gif")
        assert await storage.head("avatars/u-1") == StoredObject("avatars/u-1", 6, "image/gif")

    async def test_keys_with_spaces_and_non_ascii_letters_work(self, storage: FileStorage) -> None:
        key = "products/p-1/Crème brûlée #2.png"
        await self.upload(storage, key, PNG)
        url = await storage.presign_download(key, expires_in=timedelta(hours=1))
        assert await self.download_as_client(storage, url) == PNG
        assert (await storage.head(key)) == StoredObject(key, len(PNG), "image/png")

    async def test_objects_under_different_keys_are_independent(self, storage: FileStorage) -> None:
        await self.upload(storage, "products/p-1/a.png", PNG)
        await self.upload(storage, "products/p-1/b.png", b"other")
        await storage.delete("products/p-1/a.png")
        assert await storage.head("products/p-1/a.png") is None
        assert (await storage.head("products/p-1/b.png")) == StoredObject(
            "products/p-1/b.png", 5, "image/png"
        )

    async def test_a_deleted_object_is_gone(self, storage: FileStorage) -> None:
        await self.upload(storage, "products/p-1/front.png", PNG)
        await storage.delete("products/p-1/front.png")
        assert await storage.head("products/p-1/front.png") is None
        url = await storage.presign_download(
            "products/p-1/front.png", expires_in=timedelta(hours=1)
        )
        assert await self.download_as_client(storage, url) is None

    async def test_deleting_a_missing_object_is_harmless(self, storage: FileStorage) -> None:
        await storage.delete("products/p-1/never-uploaded.png")
        assert await storage.head("products/p-1/never-uploaded.png") is None

    async def test_a_usable_storage_passes_its_check(self, storage: FileStorage) -> None:
        await storage.check()
