"""Checks made as a process starts that warn rather than stop it."""

from __future__ import annotations

import asyncio
import logging

from application.ports.errors import ServiceUnavailable
from application.ports.storage import FileStorage

log = logging.getLogger(__name__)

# How long the start-up check of the S3 settings may take.
FILES_CHECK_SECONDS = 10.0


async def check_s3_file_storage(storage: FileStorage) -> None:
    """Check that the S3 bucket answers, and log an error naming the settings if not: the
    process still starts (S3 may be down for a moment), and /health/ready reports it."""
    try:
        await asyncio.wait_for(storage.check(), FILES_CHECK_SECONDS)
    except (ServiceUnavailable, TimeoutError) as error:
        log.error(
            "file storage is not usable (check HEXMART_S3_BUCKET, HEXMART_S3_ENDPOINT_URL, "
            "HEXMART_S3_REGION and the credentials); uploads and product images fail "
            "until it is: %s",
            error or "no answer",
        )
