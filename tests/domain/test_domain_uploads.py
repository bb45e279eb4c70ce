"""Uploads: file names made safe for storage keys, and what counts as the announced file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import InvalidValue
from domain.uploads import Upload, display_filename, safe_filename


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("photo.png", "photo.png"),
        ("My Holiday Photo.JPG", "My_Holiday_Photo.JPG"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\cat.jpg", "cat.jpg"),
        ("Crème brûlée #2.png", "Creme_brulee_2.png"),
        (".hidden", "hidden"),
        ("...", "file"),
        ("日本.png", "png"),
        ("a" * 300 + ".webp", "a" * 95 + ".webp"),
    ],
)
def test_a_file_name_becomes_one_safe_key_segment(given: str, safe: str) -> None:
    assert safe_filename(given) == safe


@pytest.mark.parametrize("name", ["", "   ", "a\x00b.png", "a\nb.png", "x" * 256])
def test_empty_overlong_or_control_character_names_are_invalid(name: str) -> None:
    with pytest.raises(InvalidValue, match="filename"):
        display_filename(name)


def test_an_upload_matches_only_its_announced_size_and_media_type() -> None:
    upload = Upload(
        id="u-1",
        owner_id="user-1",
        filename="a.png",
        content_type="image/png",
        size=10,
        storage_key="uploads/user-1/u-1/a.png",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert upload.matches(10, "image/png")
    assert upload.matches(10, "Image/PNG; charset=binary")
    assert not upload.matches(11, "image/png")
    assert not upload.matches(10, "image/jpeg")
    assert not upload.matches(10, None)
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    upload.complete(moment)
    upload.complete(datetime(2026, 1, 3, tzinfo=UTC))
    assert upload.completed_at == moment
