"""Object storage in a dict; the test double for S3."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, unquote, urlencode, urlsplit

from application.ports.runtime import Clock
from application.ports.storage import PresignedUpload, StoredObject

URL_SCHEME = "memory"


@dataclass(frozen=True, slots=True)
class _Blob:
    data: bytes
    content_type: str | None


class InMemoryFileStorage:
    """The `FileStorage` port over a dict of key -> bytes.

    Presigned URLs look like `memory://<bucket>/<key>?method=PUT&expires=<unix time>`;
    nothing checks them. Tests play the client with `put` (the upload the presigned URL
    allows) and read with `get`.
    """

    def __init__(self, clock: Clock, *, bucket: str = "uploads") -> None:
        self._clock = clock
        self._bucket = bucket
        self._blobs: dict[str, _Blob] = {}

    async def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_in: timedelta
    ) -> PresignedUpload:
        expires_at = self._clock.now() + expires_in
        return PresignedUpload(
            url=self._url(key, "PUT", int(expires_at.timestamp())),
            method="PUT",
            headers={"Content-Type": content_type},
            expires_at=expires_at,
        )

    async def presign_download(self, key: str, *, expires_in: timedelta) -> str:
        expires_at = self._clock.now() + expires_in
        return self._url(key, "GET", int(expires_at.timestamp()))

    async def head(self, key: str) -> StoredObject | None:
        blob = self._blobs.get(key)
        if blob is None:
            return None
        return StoredObject(key=key, size=len(blob.data), content_type=blob.content_type)

    async def delete(self, key: str) -> None:
        self._blobs.pop(key, None)

    async def check(self) -> None:
        """Always usable."""

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store an object, as a client uploading to the presigned URL would."""
        self._blobs[key] = _Blob(bytes(data), content_type)

    def get(self, key: str) -> bytes | None:
        """The object's bytes, as a client downloading it would see them."""
        blob = self._blobs.get(key)
        return None if blob is None else blob.data

    def key_from_url(self, url: str) -> str:
        """The object key a presigned URL of this storage points at."""
        prefix = f"{URL_SCHEME}://{self._bucket}/"
        if not url.startswith(prefix):
            raise ValueError(f"not a presigned URL of this storage: {url}")
        return unquote(urlsplit(url).path.lstrip("/"))

    def _url(self, key: str, method: str, expires: int) -> str:
        query = urlencode({"method": method, "expires": expires})
        return f"{URL_SCHEME}://{self._bucket}/{quote(key, safe='/')}?{query}"
