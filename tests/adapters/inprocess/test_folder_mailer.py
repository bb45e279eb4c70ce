from __future__ import annotations

import email
import email.policy
import logging
from pathlib import Path

import pytest

from adapters.inprocess.folder_mailer import FolderMailer
from adapters.system.clock import FixedClock
from application.ports.messaging import EmailMessage

RECEIPT = EmailMessage(
    to="ann@example.com",
    subject="Receipt for order 1001",
    text_body="Thanks!",
    html_body="<p>Thanks!</p>",
)


def files_in(folder: Path, pattern: str | None = None) -> list[Path]:
    """Every entry in `folder`, hidden ones included, or those matching `pattern`."""
    if not folder.exists():
        return []
    return sorted(folder.glob(pattern) if pattern else folder.iterdir())


async def test_each_email_becomes_one_eml_file_named_by_time(tmp_path: Path) -> None:
    mailer = FolderMailer(tmp_path, FixedClock())
    await mailer.send(RECEIPT)
    await mailer.send(RECEIPT)
    names = [path.name for path in files_in(tmp_path)]
    assert len(names) == 2
    assert all(name.startswith("20250101T000000000000Z-") for name in names)
    assert all(name.endswith(".eml") for name in names)


async def test_the_file_is_a_complete_mime_message_a_mail_client_can_open(
    tmp_path: Path,
) -> None:
    mailer = FolderMailer(tmp_path, FixedClock(), sender="Shop <shop@example.com>")
    await mailer.send(RECEIPT)
    [path] = files_in(tmp_path, "*.eml")
    mime = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert mime["From"] == "Shop <shop@example.com>"
    assert mime["To"] == "ann@example.com"
    assert mime["Date"] == "Wed, 01 Jan 2025 00:00:00 +0000"
    assert mime["Message-ID"].endswith("@hexmart.localhost>")
    assert mime.get_content_type() == "multipart/alternative"


async def test_one_log_line_per_email_says_where_it_went(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="adapters.inprocess.folder_mailer")
    await FolderMailer(tmp_path, FixedClock()).send(RECEIPT)
    [record] = caplog.records
    [path] = files_in(tmp_path, "*.eml")
    assert "ann@example.com" in record.getMessage()
    assert str(path) in record.getMessage()


async def test_the_folder_is_created_on_the_first_email_not_before(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "mail"
    mailer = FolderMailer(folder, FixedClock())
    assert files_in(tmp_path) == []
    assert mailer.saved_messages() == []
    await mailer.send(RECEIPT)
    assert len(files_in(folder, "*.eml")) == 1


async def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    mailer = FolderMailer(tmp_path, FixedClock())
    for _ in range(3):
        await mailer.send(RECEIPT)
    assert all(path.suffix == ".eml" for path in files_in(tmp_path))


async def test_a_header_injection_attempt_is_refused(tmp_path: Path) -> None:
    mailer = FolderMailer(tmp_path, FixedClock())
    evil = EmailMessage(to="ann@example.com\nBcc: all@example.com", subject="s", text_body="b")
    with pytest.raises(ValueError, match="linefeed"):
        await mailer.send(evil)
    assert files_in(tmp_path) == []
