"""Presigned uploads (product images and user uploads) and what an upload looks like."""

from __future__ import annotations

from datetime import datetime

import msgspec

from application.uploads import RequestedUpload, UploadView
from entrypoints.http.schemas.common import rfc3339


class FileAnnouncement(msgspec.Struct, forbid_unknown_fields=True):
    """The file the client is about to send: it must send exactly `size` bytes with this
    `content_type` (one of the configured types, at most the configured size)."""

    filename: str
    content_type: str
    size: int


class ImageUpload(msgspec.Struct):
    """Send the image with `upload_method` to `upload_url`, with `upload_headers`, before
    `expires_at`; then POST .../images/{image_id}/complete."""

    image_id: str
    upload_url: str
    upload_method: str
    upload_headers: dict[str, str]
    expires_at: datetime | None


class PresignedFileUpload(msgspec.Struct):
    """Send the file with `upload_method` to `upload_url`, with `upload_headers`, before
    `expires_at`; then GET /uploads/{upload_id} finds it."""

    upload_id: str
    upload_url: str
    upload_method: str
    upload_headers: dict[str, str]
    expires_at: datetime | None


class Upload(msgspec.Struct):
    """`download_url` is presigned and good for a few minutes; `uploaded` says whether the
    file has arrived (exactly as announced)."""

    id: str
    filename: str
    content_type: str
    size: int
    uploaded: bool
    download_url: str
    created_at: datetime


def image_upload_out(requested: RequestedUpload) -> ImageUpload:
    presigned = requested.presigned
    return ImageUpload(
        image_id=requested.id,
        upload_url=presigned.url,
        upload_method=presigned.method,
        upload_headers=dict(presigned.headers),
        expires_at=rfc3339(presigned.expires_at) if presigned.expires_at else None,
    )


def file_upload_out(requested: RequestedUpload) -> PresignedFileUpload:
    presigned = requested.presigned
    return PresignedFileUpload(
        upload_id=requested.id,
        upload_url=presigned.url,
        upload_method=presigned.method,
        upload_headers=dict(presigned.headers),
        expires_at=rfc3339(presigned.expires_at) if presigned.expires_at else None,
    )


def upload_out(view: UploadView) -> Upload:
    upload = view.upload
    return Upload(
        id=upload.id,
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.size,
        uploaded=upload.is_completed,
        download_url=view.download_url,
        created_at=rfc3339(upload.created_at),
    )
