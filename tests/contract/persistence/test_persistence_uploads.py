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

    async def test_incomplete_uploads_before_a_cutoff_come_oldest_first_up_to_a_limit(
        self, uow: UnitOfWorkFactory, owner: str
    ) -> None:
        async with uow() as tx:
            for n in (4, 1, 3, 2, 6):
                await tx.uploads.add(an_upload(n, owner_id=owner))
            completed = an_upload(5, owner_id=owner)
            completed.complete(at(7))
            await tx.uploads.add(completed)
            await tx.commit()
        async with uow() as tx:
            first_two = await tx.uploads.incomplete_before(at(6), 2)
            all_before = await tx.uploads.incomplete_before(at(6), 100)
        assert [u.id for u in first_two] == ["upload-0001", "upload-0002"]
        # upload 5 is completed; upload 6 is not older than the cutoff
        assert [u.id for u in all_before] == [f"upload-{n:04d}" for n in (1, 2, 3, 4)]

    async def test_only_an_incomplete_upload_is_deleted(
        self, uow: UnitOfWorkFactory, owner: str
    ) -> None:
        completed = an_upload(2, owner_id=owner)
        completed.complete(at(3))
        async with uow() as tx:
            await tx.uploads.add(an_upload(1, owner_id=owner))
            await tx.uploads.add(completed)
            await tx.commit()
        async with uow() as tx:
            assert await tx.uploads.delete_incomplete("upload-0001") is True
            assert await tx.uploads.delete_incomplete("upload-0002") is False
            assert await tx.uploads.delete_incomplete("upload-9999") is False
            await tx.commit()
        async with uow() as tx:
            assert await tx.uploads.get("upload-0001") is None
            assert await tx.uploads.get("upload-0002") is not None

    async def test_a_delete_that_is_not_committed_keeps_the_upload(
        self, uow: UnitOfWorkFactory, owner: str
    ) -> None:
        async with uow() as tx:
            await tx.uploads.add(an_upload(1, owner_id=owner))
            await tx.commit()
        async with uow() as tx:
            assert await tx.uploads.delete_incomplete("upload-0001") is True
        async with uow() as tx:
            assert await tx.uploads.get("upload-0001") is not None


class TestUploadsInMemory(InMemoryStore, UploadRepositoryContract):
    pass


class TestUploadsSqlite(SqliteStore, UploadRepositoryContract):
    pass


class TestUploadsPostgres(PostgresStore, UploadRepositoryContract):
    pass
