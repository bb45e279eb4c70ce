"""Files that users upload: what was asked for, and whether it arrived."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidValue

MAX_FILENAME_LENGTH = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(filename: str) -> str:
    """`filename` reduced to a storage-key segment: its last path component, accents
    dropped, anything but letters, digits, `.`, `_` and `-` turned into `_`, no leading
    dot, at most MAX_FILENAME_LENGTH characters (the extension kept)."""
    if not isinstance(filename, str) or not filename.strip():
        raise InvalidValue("filename", "is required")
    if len(filename) > 1000:
        raise InvalidValue("filename", "must be at most 1000 characters")
    name = re.split(r"[/\\]", filename.strip())[-1]
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("_", ascii_name).lstrip(".")
    if len(cleaned) > MAX_FILENAME_LENGTH:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            cleaned = stem[: MAX_FILENAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            cleaned = cleaned[:MAX_FILENAME_LENGTH]
    return cleaned.strip("_") or "file"


def display_filename(filename: str) -> str:
    """The name the uploader gave, trimmed, as it is shown back to them."""
    if not isinstance(filename, str) or not filename.strip():
        raise InvalidValue("filename", "is required")
    name = filename.strip()
    if len(name) > 255:
        raise InvalidValue("filename", "must be at most 255 characters")
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise InvalidValue("filename", "must not contain control characters")
    return name


@dataclass(kw_only=True, eq=False)
class Upload:
    """A file a user asked to upload: its object lands under `storage_key` in file
    storage, and the upload counts as completed once an object of exactly the announced
    size and content type is there."""

    id: str
    owner_id: str
    filename: str
    content_type: str
    size: int
    storage_key: str
    created_at: datetime
    completed_at: datetime | None = None

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None

    def matches(self, size: int, content_type: str | None) -> bool:
        """True if an object of `size` and `content_type` is what was announced."""
        return size == self.size and _media_type(content_type) == _media_type(self.content_type)

    def complete(self, now: datetime) -> None:
        if self.completed_at is None:
            self.completed_at = now


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()
