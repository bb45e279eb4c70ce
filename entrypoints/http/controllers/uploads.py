"""/uploads: any signed-in user uploads a file and fetches it back; admins see every one."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from application.principal import Principal
from application.uploads import Uploads
from entrypoints.http.dependencies import Injected
from entrypoints.http.openapi_responses import problems
from entrypoints.http.schemas.uploads import (
    FileAnnouncement,
    PresignedFileUpload,
    Upload,
    file_upload_out,
    upload_out,
)
from entrypoints.http.security import USER_ONLY, signed_in_user


class UploadsController(Controller):
    path = "/uploads"
    tags = ["uploads"]

    @post(
        "/",
        status_code=201,
        guards=[signed_in_user],
        security=USER_ONLY,
        responses=problems(401, 403, 413, on_400="A content type or size that is not allowed"),
    )
    async def request_upload(
        self,
        data: JSONBody[FileAnnouncement],
        uploads: Injected[Uploads],
        principal: Injected[Principal],
    ) -> PresignedFileUpload:
        """Signed-in users: a presigned upload for a file of the announced type and size."""
        requested = await uploads.request_upload(
            principal, data.filename, data.content_type, data.size
        )
        return file_upload_out(requested)

    @get(
        "/{upload_id:str}",
        guards=[signed_in_user],
        security=USER_ONLY,
        responses=problems(401, 403, 404),
    )
    async def get_upload(
        self,
        upload_id: FromPath[str],
        uploads: Injected[Uploads],
        principal: Injected[Principal],
    ) -> Upload:
        """The owner and admins: the upload, with a short-lived download URL."""
        return upload_out(await uploads.get_upload(principal, upload_id))
