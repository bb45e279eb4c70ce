"""The `FileStorage` port on an S3 bucket, with obstore (async, SigV4 presigned URLs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import obstore
from obstore.exceptions import BaseError
from obstore.store import S3Store

from application.ports.errors import ServiceUnavailable
from application.ports.storage import PresignedUpload, StoredObject


class S3FileStorage:
    """Objects in one bucket; clients upload and download with presigned URLs.

    `endpoint_url` points at an S3-compatible service (MinIO, moto, ...): requests are
    then addressed path-style (`<endpoint>/<bucket>/<key>`), and plain http is allowed
    for it. Without it, AWS's regional endpoint is used, virtual-hosted style. Without
    explicit credentials obstore looks in the environment (AWS_* variables, instance
    metadata).

    Presigned URLs are signed (SigV4) for the host only: unlike the local storage, S3
    does not pin an upload's content type or size, which is why uploads are checked with
    `head` before they count. Their expiry follows the wall clock, which is what S3
    compares them with. A service that cannot be reached raises `ServiceUnavailable`.
    """

    def __init__(
        self,
        bucket: str,
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        config: dict[str, Any] = {"region": region}
        client_options: dict[str, Any] = {}
        if endpoint_url is not None:
            config["endpoint"] = endpoint_url.rstrip("/")
            config["virtual_hosted_style_request"] = False
            if endpoint_url.startswith("http://"):
                client_options["allow_http"] = True
        if access_key_id is not None:
            config["access_key_id"] = access_key_id
        if secret_access_key is not None:
            config["secret_access_key"] = secret_access_key
        self._bucket = bucket
        self._store = S3Store(bucket, client_options=client_options or None, **config)

    async def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_in: timedelta
    ) -> PresignedUpload:
        expires_at = datetime.now(UTC) + expires_in
        url = await self._sign("PUT", key, expires_in)
        return PresignedUpload(
            url=url, method="PUT", headers={"Content-Type": content_type}, expires_at=expires_at
        )

    async def presign_download(self, key: str, *, expires_in: timedelta) -> str:
        return await self._sign("GET", key, expires_in)

    async def head(self, key: str) -> StoredObject | None:
        try:
            result = await obstore.get_async(self._store, key, options={"head": True})
        except FileNotFoundError:
            return None
        except BaseError as error:
            raise ServiceUnavailable(f"file storage: {error}") from error
        content_type = result.attributes.get("Content-Type")
        return StoredObject(
            key=key,
            size=int(result.meta["size"]),
            content_type=str(content_type) if content_type is not None else None,
        )

    async def delete(self, key: str) -> None:
        try:
            await obstore.delete_async(self._store, key)
        except FileNotFoundError:
            return
        except BaseError as error:
            raise ServiceUnavailable(f"file storage: {error}") from error

    async def check(self) -> None:
        """List at most one object: fails for an unknown bucket, refused credentials or
        an endpoint that does not answer."""
        try:
            await obstore.list(self._store, chunk_size=1).__anext__()
        except StopAsyncIteration:
            return  # an empty bucket
        except BaseError as error:
            raise ServiceUnavailable(f"file storage (bucket {self._bucket}): {error}") from error

    async def _sign(self, method: Any, key: str, expires_in: timedelta) -> str:
        if expires_in <= timedelta(0):
            raise ValueError(f"a presigned URL must expire in the future, got {expires_in}")
        try:
            return await obstore.sign_async(self._store, method, key, expires_in)
        except BaseError as error:
            raise ServiceUnavailable(f"file storage: {error}") from error
