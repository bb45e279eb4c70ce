"""Uploads kept in a local folder and served by the app through HMAC-signed URLs."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import mimetypes
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

from adapters.inprocess.atomic_files import write_atomically
from application.ports.errors import ServiceUnavailable
from application.ports.runtime import Clock
from application.ports.storage import PresignedUpload, StoredObject
from domain.errors import InvalidValue

MIN_SECRET_BYTES = 32
DEFAULT_BASE_URL = "http://127.0.0.1:8000/files"
# Keys never have a segment starting with a dot, so these names cannot clash with objects.
_METADATA_DIR = ".metadata"


class LocalFileStorage:
    """The `FileStorage` port over a folder, with the app standing in for S3.

    Object `k` lives at `<root>/k`, its content type in `<root>/.metadata/k.json`.
    Presigned URLs are `<base_url>/<key>?expires=<unix time>&sig=<HMAC-SHA256>`: the
    signature covers the method, the key and the expiry, and for uploads also the
    content type and the size, which the uploading client must send unchanged (as S3
    does with signed headers). The HTTP route behind `base_url` checks a request with
    `verify_signature` and then calls `write` or `read`.

    Keys are relative paths of non-empty segments that do not start with a dot and hold
    no backslash or NUL; anything else raises `InvalidValue("key", ...)`. Unlike S3, a
    key cannot be both an object and a folder ("a" and "a/b"): writing the second fails.
    File I/O runs in a worker thread; each object is replaced atomically (written aside,
    then renamed). An object written without metadata gets a type guessed from its name.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        secret: str | bytes,
        clock: Clock,
        base_url: str = DEFAULT_BASE_URL,
    ) -> None:
        raw_secret = secret.encode("utf-8") if isinstance(secret, str) else secret
        if len(raw_secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"the file URL signing secret must be at least {MIN_SECRET_BYTES} bytes, "
                f"got {len(raw_secret)}"
            )
        self._root = Path(root)
        self._secret = raw_secret
        self._clock = clock
        self._base_url = base_url.rstrip("/")

    @property
    def root(self) -> Path:
        return self._root

    # -- the port ------------------------------------------------------------------

    async def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_in: timedelta
    ) -> PresignedUpload:
        _check_key(key)
        expires = self._expiry(expires_in)
        signature = self._sign("PUT", key, expires, content_type, size)
        return PresignedUpload(
            url=self._url(key, expires, signature),
            method="PUT",
            headers={"Content-Type": content_type},
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    async def presign_download(self, key: str, *, expires_in: timedelta) -> str:
        _check_key(key)
        expires = self._expiry(expires_in)
        return self._url(key, expires, self._sign("GET", key, expires, None, None))

    async def head(self, key: str) -> StoredObject | None:
        return await asyncio.to_thread(self._head, self.file_path(key), key)

    async def delete(self, key: str) -> None:
        path = self.file_path(key)
        await asyncio.to_thread(self._delete, path, self._metadata_path(key))

    async def check(self) -> None:
        """The folder exists (it is made if missing) and files can be written there."""
        await asyncio.to_thread(self._check_writable)

    def _check_writable(self) -> None:
        try:
            self._root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self._root):
                pass
        except OSError as error:
            raise ServiceUnavailable(f"file storage folder {self._root}: {error}") from error

    # -- for the HTTP route serving `base_url` ---------------------------------------

    def verify_signature(
        self,
        key: str,
        expires: str | int,
        sig: str,
        method: str,
        *,
        content_type: str | None = None,
        size: int | None = None,
    ) -> bool:
        """True if `sig` is this storage's signature for `method` on `key` until
        `expires`, and that time has not come yet.

        For an upload (PUT) pass the request's Content-Type and body length: they must be
        what the URL was signed for. `expires` may be the raw query-string value.
        """
        try:
            expires_at = int(expires)
        except (TypeError, ValueError):
            return False
        if expires_at <= self._clock.now().timestamp():
            return False
        method = method.upper()
        if method == "HEAD":
            method = "GET"
        if method == "PUT" and (content_type is None or size is None):
            return False
        expected = self._sign(method, key, expires_at, content_type, size)
        return hmac.compare_digest(expected, sig)

    async def write(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store `data` under `key` (replacing any previous object)."""
        path = self.file_path(key)
        await asyncio.to_thread(self._write, path, self._metadata_path(key), data, content_type)

    async def read(self, key: str) -> bytes | None:
        """The object's bytes, or None if nothing is stored under `key`."""
        path = self.file_path(key)
        return await asyncio.to_thread(_read_if_exists, path)

    def file_path(self, key: str) -> Path:
        """Where the object for `key` lives (it may not exist), e.g. to stream it."""
        _check_key(key)
        return self._root.joinpath(*key.split("/"))

    # -- internals -----------------------------------------------------------------

    def _expiry(self, expires_in: timedelta) -> int:
        if expires_in <= timedelta(0):
            raise ValueError(f"a presigned URL must expire in the future, got {expires_in}")
        return math.ceil((self._clock.now() + expires_in).timestamp())

    def _sign(
        self, method: str, key: str, expires: int, content_type: str | None, size: int | None
    ) -> str:
        fields = [method, key, str(expires), content_type or "", "" if size is None else str(size)]
        digest = hmac.new(self._secret, "\n".join(fields).encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def _url(self, key: str, expires: int, signature: str) -> str:
        query = urlencode({"expires": expires, "sig": signature})
        return f"{self._base_url}/{quote(key, safe='/')}?{query}"

    def _metadata_path(self, key: str) -> Path:
        *folders, name = key.split("/")
        return self._root.joinpath(_METADATA_DIR, *folders, f"{name}.json")

    def _head(self, path: Path, key: str) -> StoredObject | None:
        if not path.is_file():
            return None
        size = path.stat().st_size
        try:
            metadata = json.loads(self._metadata_path(key).read_text("utf-8"))
            content_type = metadata.get("content_type")
        except (OSError, ValueError, AttributeError):
            content_type = None
        content_type = content_type or mimetypes.guess_type(key)[0]
        return StoredObject(key=key, size=size, content_type=content_type)

    def _write(
        self, path: Path, metadata_path: Path, data: bytes, content_type: str | None
    ) -> None:
        write_atomically(path, data)
        write_atomically(metadata_path, json.dumps({"content_type": content_type}).encode())

    @staticmethod
    def _delete(path: Path, metadata_path: Path) -> None:
        path.unlink(missing_ok=True)
        metadata_path.unlink(missing_ok=True)


def _check_key(key: str) -> None:
    segments = key.split("/")
    if (
        not key
        or "\\" in key
        or "\x00" in key
        or any(not segment or segment.startswith(".") for segment in segments)
    ):
        raise InvalidValue(
            "key", "must be a relative path of non-empty segments not starting with a dot"
        )


def _read_if_exists(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
