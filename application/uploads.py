"""Uploads: a signed-in user announces a file, sends it straight to file storage with a
presigned URL, and later fetches it back through a short-lived download URL.

The upload record (owner, name, type, size, key) is kept in the unit of work; the bytes
never pass through the application. An upload counts as completed once an object of
exactly the announced size and content type is in storage (looked at lazily, when its
owner asks for it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from application.ports.errors import ServiceUnavailable
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.runtime import Clock, IdGenerator
from application.ports.storage import FileStorage, PresignedUpload
from application.principal import Principal
from application.transactions import in_transaction
from domain.errors import InvalidValue, NotFound
from domain.uploads import Upload, display_filename, safe_filename

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    """What may be uploaded, and how long presigned URLs stay good."""

    max_bytes: int
    content_types: frozenset[str]
    upload_expires_in: timedelta = timedelta(minutes=15)
    download_expires_in: timedelta = timedelta(minutes=5)
    # Product image URLs are handed to anyone browsing, and may sit in a cached answer.
    image_url_expires_in: timedelta = timedelta(hours=1)

    def check(self, content_type: str, size: int) -> str:
        """The content type, normalised; InvalidValue if the type or size is not allowed."""
        if not isinstance(content_type, str):
            raise InvalidValue("content_type", "must be a string")
        normalised = content_type.strip().lower()
        if normalised not in self.content_types:
            allowed = ", ".join(sorted(self.content_types))
            raise InvalidValue("content_type", f"must be one of: {allowed}")
        if isinstance(size, bool) or not isinstance(size, int):
            raise InvalidValue("size", "must be a whole number of bytes")
        if not 0 < size <= self.max_bytes:
            raise InvalidValue("size", f"must be between 1 and {self.max_bytes} bytes")
        return normalised


# An upload still not completed this long after its upload URL expired is abandoned.
ABANDONED_AFTER = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class RequestedUpload:
    """What a client needs to send a file: the id to refer to it by, and where to send it."""

    id: str
    presigned: PresignedUpload


@dataclass(frozen=True, slots=True)
class UploadView:
    upload: Upload
    download_url: str


class Uploads:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        storage: FileStorage,
        clock: Clock,
        ids: IdGenerator,
        policy: UploadPolicy,
    ) -> None:
        self._uow_factory = uow_factory
        self._storage = storage
        self._clock = clock
        self._ids = ids
        self._policy = policy

    async def request_upload(
        self, actor: Principal, filename: str, content_type: str, size: int
    ) -> RequestedUpload:
        """Any signed-in user: record the upload and presign it. The client must send
        exactly `size` bytes with this `content_type`. InvalidValue (400) for a type not
        in the allowed list, a size over the limit, or an empty file name."""
        owner_id = actor.require_user()
        name = display_filename(filename)
        content_type = self._policy.check(content_type, size)
        upload_id = self._ids.new_id()
        upload = Upload(
            id=upload_id,
            owner_id=owner_id,
            filename=name,
            content_type=content_type,
            size=size,
            storage_key=f"uploads/{owner_id}/{upload_id}/{safe_filename(name)}",
            created_at=self._clock.now(),
        )
        async with self._uow_factory() as uow:
            await uow.uploads.add(upload)
            await uow.commit()
        presigned = await self._storage.presign_upload(
            upload.storage_key,
            content_type=content_type,
            size=size,
            expires_in=self._policy.upload_expires_in,
        )
        return RequestedUpload(id=upload_id, presigned=presigned)

    async def get_upload(self, actor: Principal, upload_id: str) -> UploadView:
        """The owner or an admin: the upload with a short-lived download URL. Anyone else
        gets NotFound, as for an upload that does not exist."""
        async with self._uow_factory() as uow:
            upload = await uow.uploads.get(upload_id)
        if upload is None or not (actor.is_admin or upload.owner_id == actor.user_id):
            raise NotFound("upload", upload_id)
        if not upload.is_completed:
            upload = await self._note_arrival(upload)
        url = await self._storage.presign_download(
            upload.storage_key, expires_in=self._policy.download_expires_in
        )
        return UploadView(upload=upload, download_url=url)

    async def purge_abandoned(
        self, older_than: timedelta = ABANDONED_AFTER, *, batch: int = 500
    ) -> int:
        """Forget uploads never completed whose upload URL expired more than `older_than`
        ago (nothing can be sent to them any more), at most `batch` in one call, and
        delete what was sent to them if it is not what was announced. One whose object
        did arrive as announced is completed instead. Returns how many were forgotten.

        The object goes before the record: a crash in between leaves a record whose
        object is gone, which the next call forgets."""
        if older_than < timedelta(0):
            raise ValueError("older_than must not be negative")
        cutoff = self._clock.now() - self._policy.upload_expires_in - older_than
        async with self._uow_factory() as uow:
            stale = await uow.uploads.incomplete_before(cutoff, batch)
        forgotten = 0
        for upload in stale:
            try:
                forgotten += await self._forget_abandoned(upload)
            except ServiceUnavailable as error:
                # Kept for the next run; the others still go.
                log.warning("could not forget abandoned upload %s yet: %s", upload.id, error)
        return forgotten

    async def _forget_abandoned(self, upload: Upload) -> bool:
        stored = await self._storage.head(upload.storage_key)
        if stored is not None and upload.matches(stored.size, stored.content_type):
            await self._note_arrival(upload)
            return False
        if stored is not None:
            await self._storage.delete(upload.storage_key)

        async def forget(uow: UnitOfWork) -> bool:
            return await uow.uploads.delete_incomplete(upload.id)

        return await in_transaction(self._uow_factory, forget)

    async def _note_arrival(self, upload: Upload) -> Upload:
        stored = await self._storage.head(upload.storage_key)
        if stored is None or not upload.matches(stored.size, stored.content_type):
            return upload

        async def complete(uow: UnitOfWork) -> Upload:
            current = await uow.uploads.get(upload.id)
            if current is None:  # forgotten as abandoned meanwhile
                raise NotFound("upload", upload.id)
            current.complete(self._clock.now())
            await uow.uploads.save(current)
            return current

        return await in_transaction(self._uow_factory, complete)
