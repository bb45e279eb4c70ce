"""/files/{key}: on the embedded default the app stands in for S3, serving the local file
storage's presigned URLs. The URL's signature is the only credential: it names the
method, the key and the expiry, and for an upload the content type and exact size, which
the request must carry unchanged. A bad or expired signature is a 403 problem.

Not part of the public contract (clients only follow URLs the API hands out), so not in the OpenAPI
document. With S3 configured these routes answer 404.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, put
from litestar.params import FromPath, FromQuery

from adapters.inprocess.local_file_storage import LocalFileStorage
from domain.errors import InvalidValue, NotFound, PermissionDenied
from entrypoints.http.state import container_from_app

_REFUSED = "the URL's signature is invalid or has expired"


def _local_storage(request: Request[Any, Any, Any]) -> LocalFileStorage:
    storage = container_from_app(request.app).file_storage()
    if not isinstance(storage, LocalFileStorage):
        raise NotFound("file", request.url.path)
    return storage


class LocalFilesController(Controller):
    path = "/files"
    include_in_schema = False

    # The body is limited by the signed size, not by the API's JSON body limit.
    @put("/{key:path}", status_code=200, request_max_body_size=None)
    async def upload_file(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        expires: FromQuery[str] = "",
        sig: FromQuery[str] = "",
    ) -> Response[bytes]:
        storage = _local_storage(request)
        key = key.lstrip("/")
        content_type = request.headers.get("content-type")
        try:
            size = int(request.headers.get("content-length", ""))
        except ValueError:
            raise PermissionDenied(f"{_REFUSED} (an upload must send its Content-Length)") from None
        if not storage.verify_signature(
            key, expires, sig, "PUT", content_type=content_type, size=size
        ):
            raise PermissionDenied(_REFUSED)
        data = bytearray()
        async for chunk in request.stream():
            data.extend(chunk)
            if len(data) > size:
                break
        if len(data) != size:
            raise InvalidValue("body", f"must be exactly {size} bytes, as signed")
        await storage.write(key, bytes(data), content_type)
        return Response(content=b"", status_code=200)

    @get("/{key:path}")
    async def download_file(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        expires: FromQuery[str] = "",
        sig: FromQuery[str] = "",
    ) -> Response[bytes]:
        storage = _local_storage(request)
        key = key.lstrip("/")
        if not storage.verify_signature(key, expires, sig, "GET"):
            raise PermissionDenied(_REFUSED)
        stored = await storage.head(key)
        data = await storage.read(key)
        if stored is None or data is None:
            raise NotFound("file", key)
        return Response(
            content=data,
            media_type=stored.content_type or "application/octet-stream",
            headers={"Cache-Control": "private, max-age=60"},
        )
