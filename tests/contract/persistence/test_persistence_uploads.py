"""UploadRepository contract."""

from __future__ import annotations

import pytest

from application.ports.persistence import DuplicateRecord, UnitOfWorkFactory
from domain.uploads import Upload
from tests.contract.persistence.persistence_builders import a_user, at, snapshot, store
from tests.contract.persistence.persistence_stores import InMemoryStore, PostgresStore, SqliteStore


def an_upload(n: int = 1, *, owner_id: str = "user-0001") -> Upload:
    return Upload(
        id=f"upload-{n:04d}",
        owner_id=owner_id,
        filename=f"Crème brûlée #{n}.png",
        content_type="image/png",
        size=10 * 1024 * 1024 + n,
        storage_key=f"uploads/{owner_id}/upload-{n:04d}/Creme_brulee_{n}.png",
        created_at=at(n),
    )


class UploadRepositoryContract:
    @pytest.fixture
    async def owner(self, uow: UnitOfWorkFactory) -> str:
        user = a_user(1)
        await store(uow, user)
        return user.id

    async def test_an_upload_round_trips_with_every_field(
        self, uow: UnitOfWorkFactory, owner: str
    ) -> None:
        upload = an_upload(1, owner_id=owner)
        async with uow() as tx:
            await tx.uploads.add(upload)
            await tx.commit()
        async with uow() as tx:
            found = await tx.uploads.get(upload.id)
        assert found is not None
        assert snapshot(found) == snapshot(upload)
        assert found.created_at.utcoffset() is not None

    async def test_an_unknown_upload_is_none(self, uow: UnitOfWorkFactory) -> None:
        async with uow() as tx:
            assert await tx.uploads.get("upload-9999") is None

    async def test_completion_is_saved(self, uow: UnitOfWorkFactory, owner: str) -> None:
        upload = an_upload(1, owner_id=owner)
        async with uow() as tx:
            await tx.uploads.add(upload)
            await tx.commit()
        async with uow() as tx:
            stored = await tx.uploads.get(upload.id)
            assert stored is not None
            stored.complete(at(30))
            await tx.uploads.save(stored)
            await tx.commit()
        async with uow() as tx:
            completed = await tx.uploads.get(upload.id)
        assert completed is not None
        assert completed.completed_at == at(30)
        assert completed.is_completed

    async def test_an_upload_that_is_not_committed_is_not_kept(
        self, uow: UnitOfWorkFactory, owner: str
    ) -> None:
        async with uow() as tx:
            await tx.uploads.add(an_upload(1, owner_id=owner))
        async with uow() as tx:
            assert await tx.uploads.get("upload-0001") is None

    async def test_an_id_is_used_once(self, uow: UnitOfWorkFactory, owner: str) -> None:
        async with uow() as tx:
            await tx.uploads.add(an_upload(1, owner_id=owner))
            await tx.commit()
        async with uow() as tx:
            with pytest.raises(DuplicateRecord):
                await tx.uploads.add(an_upload(1, owner_id=owner))


class TestUploadsInMemory(InMemoryStore, UploadRepositoryContract):
    pass


class TestUploadsSqlite(SqliteStore, UploadRepositoryContract):
    pass


class TestUploadsPostgres(PostgresStore, UploadRepositoryContract):
    pass
