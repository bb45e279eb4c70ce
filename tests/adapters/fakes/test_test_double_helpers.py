"""The inspection helpers the in-memory doubles offer to other tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.fakes.file_storage import InMemoryFileStorage
from adapters.fakes.mailer import InMemoryMailer
from adapters.fakes.task_queue import RecordedJob, RecordingTaskQueue
from adapters.system.clock import FixedClock
from application.ports.errors import ServiceUnavailable
from application.ports.messaging import EmailMessage


async def test_recorded_jobs_can_be_picked_by_name() -> None:
    queue = RecordingTaskQueue()
    await queue.enqueue("send_email", job_id="1", payload={"to": "ann"})
    await queue.enqueue("reindex", job_id="2", payload={})
    await queue.enqueue("send_email", job_id="3", payload={"to": "bob"})
    assert queue.named("send_email") == [
        RecordedJob("send_email", "1", {"to": "ann"}),
        RecordedJob("send_email", "3", {"to": "bob"}),
    ]


async def test_a_queue_that_was_down_records_nothing_and_recovers() -> None:
    queue = RecordingTaskQueue()
    queue.go_down()
    with pytest.raises(ServiceUnavailable):
        await queue.enqueue("send_email", job_id="1", payload={})
    queue.come_back()
    await queue.enqueue("send_email", job_id="1", payload={})
    assert [job.job_id for job in queue.jobs] == ["1"]


async def test_sent_mail_can_be_picked_by_recipient_whatever_the_case() -> None:
    mailer = InMemoryMailer()
    await mailer.send(EmailMessage(to="Ann@Example.com", subject="1", text_body=""))
    await mailer.send(EmailMessage(to="bob@example.com", subject="2", text_body=""))
    assert [m.subject for m in mailer.sent_to("ann@example.com")] == ["1"]


async def test_presigned_memory_urls_name_the_key_method_and_expiry() -> None:
    storage = InMemoryFileStorage(FixedClock())
    upload = await storage.presign_upload(
        "products/p 1/a.png", content_type="image/png", size=3, expires_in=timedelta(minutes=5)
    )
    assert upload.url == "memory://uploads/products/p%201/a.png?method=PUT&expires=1735689900"
    assert storage.key_from_url(upload.url) == "products/p 1/a.png"
    with pytest.raises(ValueError, match="not a presigned URL"):
        storage.key_from_url("https://s3.example.com/uploads/a.png")
