from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.inprocess.local_file_storage import LocalFileStorage
from adapters.system.clock import FixedClock
from domain.errors import InvalidValue

SECRET = "a-signing-secret-of-at-least-32-bytes"
BASE_URL = "http://127.0.0.1:8000/files"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def storage(tmp_path: Path, clock: FixedClock) -> LocalFileStorage:
    return LocalFileStorage(tmp_path / "files", secret=SECRET, clock=clock, base_url=BASE_URL)


def query_of(url: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(url).query)
    return query["expires"][0], query["sig"][0]


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


async def test_urls_point_at_the_key_under_the_base_url(storage: LocalFileStorage) -> None:
    url = await storage.presign_download("products/p 1/ä.png", expires_in=timedelta(minutes=5))
    assert url.startswith(f"{BASE_URL}/products/p%201/%C3%A4.png?expires=")
    assert "&sig=" in url


async def test_a_download_url_is_good_until_it_expires(
    storage: LocalFileStorage, clock: FixedClock
) -> None:
    url = await storage.presign_download("a.png", expires_in=timedelta(minutes=5))
    expires, sig = query_of(url)
    clock.advance(timedelta(minutes=5) - timedelta(seconds=1))
    assert storage.verify_signature("a.png", expires, sig, "GET")
    clock.advance(1)
    assert not storage.verify_signature("a.png", expires, sig, "GET")


async def test_a_download_url_also_allows_head(storage: LocalFileStorage) -> None:
    expires, sig = query_of(await storage.presign_download("a.png", expires_in=timedelta(1)))
    assert storage.verify_signature("a.png", expires, sig, "HEAD")


async def test_a_download_url_does_not_allow_an_upload(storage: LocalFileStorage) -> None:
    expires, sig = query_of(await storage.presign_download("a.png", expires_in=timedelta(1)))
    assert not storage.verify_signature(
        "a.png", expires, sig, "PUT", content_type="image/png", size=3
    )


async def test_a_signature_is_only_good_for_its_own_key(storage: LocalFileStorage) -> None:
    expires, sig = query_of(await storage.presign_download("mine.png", expires_in=timedelta(1)))
    assert not storage.verify_signature("yours.png", expires, sig, "GET")


async def test_pushing_the_expiry_back_breaks_the_signature(storage: LocalFileStorage) -> None:
    expires, sig = query_of(await storage.presign_download("a.png", expires_in=timedelta(1)))
    assert not storage.verify_signature("a.png", str(int(expires) + 3600), sig, "GET")


async def test_a_tampered_or_garbled_signature_is_refused(storage: LocalFileStorage) -> None:
    expires, sig = query_of(await storage.presign_download("a.png", expires_in=timedelta(1)))
    flipped = ("B" if sig[0] == "A" else "A") + sig[1:]
    assert not storage.verify_signature("a.png", expires, flipped, "GET")
    assert not storage.verify_signature("a.png", expires, "", "GET")
    assert not storage.verify_signature("a.png", "tomorrow", sig, "GET")


async def test_urls_signed_with_another_secret_are_refused(
    storage: LocalFileStorage, tmp_path: Path, clock: FixedClock
) -> None:
    other = LocalFileStorage(tmp_path, secret="x" * 32, clock=clock, base_url=BASE_URL)
    expires, sig = query_of(await other.presign_download("a.png", expires_in=timedelta(1)))
    assert not storage.verify_signature("a.png", expires, sig, "GET")


async def test_an_upload_must_send_the_signed_content_type_and_size(
    storage: LocalFileStorage,
) -> None:
    upload = await storage.presign_upload(
        "a.png", content_type="image/png", size=1234, expires_in=timedelta(minutes=5)
    )
    assert upload.headers == {"Content-Type": "image/png"}
    expires, sig = query_of(upload.url)
    assert storage.verify_signature(
        "a.png", expires, sig, "PUT", content_type="image/png", size=1234
    )
    assert not storage.verify_signature(
        "a.png", expires, sig, "PUT", content_type="text/html", size=1234
    )
    assert not storage.verify_signature(
        "a.png", expires, sig, "PUT", content_type="image/png", size=99_999
    )
    assert not storage.verify_signature("a.png", expires, sig, "PUT")
    assert not storage.verify_signature("a.png", expires, sig, "GET")


async def test_the_presigned_upload_reports_when_it_expires(
    storage: LocalFileStorage, clock: FixedClock
) -> None:
    upload = await storage.presign_upload(
        "a.png", content_type="image/png", size=1, expires_in=timedelta(minutes=5)
    )
    assert upload.expires_at == clock.now() + timedelta(minutes=5)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../outside",
        "a/../../b",
        "a//b",
        "a/",
        "./a",
        ".metadata/a.json",
        "a/.hidden",
        "a\\b",
        "a\x00b",
    ],
)
async def test_keys_that_could_escape_or_clash_with_the_folder_layout_are_refused(
    storage: LocalFileStorage, key: str
) -> None:
    with pytest.raises(InvalidValue, match="key"):
        await storage.write(key, b"x")
    with pytest.raises(InvalidValue, match="key"):
        await storage.read(key)
    with pytest.raises(InvalidValue, match="key"):
        await storage.presign_download(key, expires_in=timedelta(1))


async def test_objects_are_plain_files_under_the_root(
    storage: LocalFileStorage, tmp_path: Path
) -> None:
    await storage.write("products/p-1/a.png", b"png bytes", "image/png")
    assert (tmp_path / "files" / "products" / "p-1" / "a.png").read_bytes() == b"png bytes"
    assert storage.file_path("products/p-1/a.png") == tmp_path / "files/products/p-1/a.png"


async def test_reading_a_missing_object_gives_none(storage: LocalFileStorage) -> None:
    assert await storage.read("nothing/here.png") is None


async def test_an_object_written_without_a_type_gets_one_guessed_from_its_name(
    storage: LocalFileStorage,
) -> None:
    await storage.write("docs/manual.pdf", b"%PDF-")
    head = await storage.head("docs/manual.pdf")
    assert head is not None
    assert head.content_type == "application/pdf"


async def test_a_folder_is_not_an_object(storage: LocalFileStorage) -> None:
    await storage.write("products/p-1/a.png", b"x")
    assert await storage.head("products/p-1") is None
    assert await storage.read("products/p-1") is None


async def test_no_temporary_files_are_left_behind(
    storage: LocalFileStorage, tmp_path: Path
) -> None:
    for n in range(3):
        await storage.write("a.png", bytes(n), "image/png")
    assert [path.name for path in files_under(tmp_path / "files")] == ["a.png.json", "a.png"]


def test_a_short_signing_secret_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes, got 5"):
        LocalFileStorage(tmp_path, secret="short", clock=FixedClock())


async def test_a_url_that_expires_in_the_past_is_a_programming_error(
    storage: LocalFileStorage,
) -> None:
    with pytest.raises(ValueError, match="expire in the future"):
        await storage.presign_download("a.png", expires_in=timedelta(0))
