"""File names: every branch of making them safe, at the exact limits."""

from __future__ import annotations

import pytest

from domain.uploads import Upload, display_filename, safe_filename
from tests.domain.builders import NOW
from tests.refusals import refused


@pytest.mark.parametrize("given", ["", "   ", None, 5])
def test_a_missing_file_name_is_required(given: object) -> None:
    with refused("filename", "is required"):
        safe_filename(given)  # type: ignore[arg-type]
    with refused("filename", "is required"):
        display_filename(given)  # type: ignore[arg-type]


def test_a_file_name_may_be_1000_characters_but_not_1001() -> None:
    assert safe_filename("a" * 1000) == "a" * 100
    with refused("filename", "must be at most 1000 characters"):
        safe_filename("a" * 1001)


def test_an_extension_of_1_to_10_characters_is_kept_when_the_name_is_cut() -> None:
    assert safe_filename("a" * 200 + ".x") == "a" * 98 + ".x"
    assert safe_filename("a" * 200 + "." + "e" * 10) == "a" * 89 + "." + "e" * 10
    # An 11-character "extension" is just more name: the whole is cut at 100.
    assert safe_filename("a" * 200 + "." + "e" * 11) == "a" * 100
    # A trailing dot has no extension to keep.
    assert safe_filename("a" * 200 + ".") == "a" * 100
    # No dot at all.
    assert safe_filename("b" * 150) == "b" * 100


def test_a_name_of_exactly_100_characters_is_not_cut() -> None:
    name = "a" * 96 + ".png"
    assert safe_filename(name) == name
    assert safe_filename("a" * 97 + ".png") == "a" * 96 + ".png"


def test_the_result_never_starts_or_ends_with_an_underscore() -> None:
    assert safe_filename("  __a b__  ") == "a_b"
    assert safe_filename("#$%") == "file"
    assert safe_filename("a+b=c.txt") == "a_b_c.txt"
    assert safe_filename("dir/sub\\name.tar.gz") == "name.tar.gz"
    assert safe_filename("..x.png") == "x.png"


def test_a_display_name_may_be_255_characters_but_not_256() -> None:
    assert display_filename("  " + "n" * 255 + " ") == "n" * 255
    with refused("filename", "must be at most 255 characters"):
        display_filename("n" * 256)
    with refused("filename", "must not contain control characters"):
        display_filename("a\x07b.png")
    assert display_filename("Crème brûlée.png") == "Crème brûlée.png"


def test_an_upload_is_completed_once_completed() -> None:
    upload = Upload(
        id="u-1",
        owner_id="o-1",
        filename="a.png",
        content_type="image/png",
        size=3,
        storage_key="k",
        created_at=NOW,
    )
    assert upload.is_completed is False
    assert upload.matches(3, " image/png ")
    upload.complete(NOW)
    assert upload.is_completed is True


def test_only_the_media_type_before_the_first_parameter_is_compared() -> None:
    upload = Upload(
        id="u-1",
        owner_id="o-1",
        filename="a.txt",
        content_type="text/plain; charset=utf-8",
        size=3,
        storage_key="k",
        created_at=NOW,
    )
    assert upload.matches(3, "TEXT/PLAIN; charset=ascii; format=flowed")
    assert not upload.matches(3, "text/html; charset=utf-8")
    untyped = Upload(
        id="u-2",
        owner_id="o-1",
        filename="a",
        content_type="",
        size=3,
        storage_key="k",
        created_at=NOW,
    )
    assert untyped.matches(3, None)
    assert not untyped.matches(3, "text/plain")


def test_only_dots_leave_the_front_and_only_underscores_the_ends() -> None:
    assert safe_filename("X-ray X") == "X-ray_X"
    assert safe_filename("XX.png") == "XX.png"


def test_the_last_extension_is_the_one_kept() -> None:
    assert safe_filename("a" * 150 + ".tar.gz") == "a" * 97 + ".gz"
