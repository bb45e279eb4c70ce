"""Which file storage the container hands out, and what start-up logs say about it."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.inprocess.local_file_storage import LocalFileStorage
from adapters.s3_storage.file_storage import S3FileStorage
from entrypoints.container import build_container, start_services, stop_services
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from entrypoints.testing import settings_for_tests
from tests.entrypoints.http.shop_api import serving
from tests.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, MotoServer


async def test_the_embedded_default_keeps_files_in_the_data_folder_served_by_the_app(
    tmp_path: Path,
) -> None:
    settings = settings_for_tests(data_dir=tmp_path, public_base_url="https://shop.example/")
    storage = build_container(settings).file_storage()

    assert isinstance(storage, LocalFileStorage)
    assert storage.root == tmp_path / "files"
    url = await storage.presign_download("a.png", expires_in=timedelta(1))
    assert url.startswith("https://shop.example/files/a.png?")
    assert settings.describe_adapters()["files"].startswith(f"folder {tmp_path / 'files'}")


async def signed_by_one_verified_by_other(one: object, other: object) -> bool:
    assert isinstance(one, LocalFileStorage)
    assert isinstance(other, LocalFileStorage)
    url = await one.presign_download("a.png", expires_in=timedelta(minutes=5))
    query = parse_qs(urlsplit(url).query)
    return other.verify_signature("a.png", query["expires"][0], query["sig"][0], "GET")


async def test_the_url_signing_key_follows_the_jwt_secret_so_every_process_agrees(
    tmp_path: Path,
) -> None:
    first = build_container(settings_for_tests(data_dir=tmp_path / "a")).file_storage()
    second = build_container(settings_for_tests(data_dir=tmp_path / "b")).file_storage()
    assert await signed_by_one_verified_by_other(first, second)
    other_secret = settings_for_tests(data_dir=tmp_path / "c", jwt_secret="x" * 40)
    assert not await signed_by_one_verified_by_other(
        first, build_container(other_secret).file_storage()
    )
    assert not (tmp_path / "a" / "files-secret").exists()


async def test_without_a_jwt_secret_the_signing_key_is_made_once_and_kept(
    tmp_path: Path,
) -> None:
    settings = settings_for_tests(data_dir=tmp_path, jwt_secret=None)
    first = build_container(settings).file_storage()
    second = build_container(settings).file_storage()
    assert await signed_by_one_verified_by_other(first, second)
    assert (tmp_path / "files-secret").stat().st_mode & 0o777 == 0o600


def test_a_bucket_switches_files_to_s3() -> None:
    settings = settings_for_tests(
        s3_bucket="shop-files",
        s3_endpoint_url="http://127.0.0.1:9000",
        s3_access_key_id="key",
        s3_secret_access_key="s3cret",
    )
    assert isinstance(build_container(settings).file_storage(), S3FileStorage)
    assert settings.describe_adapters()["files"] == "s3 bucket shop-files"


def _s3_settings(moto: MotoServer, bucket: str, tmp_path: Path) -> Settings:
    return settings_for_tests(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        s3_bucket=bucket,
        s3_endpoint_url=moto.url,
        s3_region=REGION,
        s3_access_key_id=ACCESS_KEY_ID,
        s3_secret_access_key=SECRET_ACCESS_KEY,
    )


@pytest.mark.integration
async def test_start_up_says_which_settings_to_check_when_the_bucket_does_not_answer(
    moto_server: MotoServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    container = build_container(_s3_settings(moto_server, "no-such-bucket", tmp_path))
    with caplog.at_level(logging.ERROR, logger="entrypoints.startup_checks"):
        await start_services(container)
    await stop_services(container)

    [record] = [r for r in caplog.records if r.name == "entrypoints.startup_checks"]
    assert "file storage is not usable" in record.getMessage()
    assert "HEXMART_S3_BUCKET" in record.getMessage()
    assert "no-such-bucket" in record.getMessage()


@pytest.mark.integration
async def test_start_up_is_quiet_when_the_bucket_answers(
    moto_server: MotoServer, s3_bucket: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    container = build_container(_s3_settings(moto_server, s3_bucket, tmp_path))
    with caplog.at_level(logging.ERROR, logger="entrypoints.startup_checks"):
        await start_services(container)
    await stop_services(container)

    assert [r for r in caplog.records if r.name == "entrypoints.startup_checks"] == []


@pytest.mark.integration
@pytest.mark.parametrize(
    ("bucket_exists", "status", "outcome"), [(True, "ok", "ok"), (False, "degraded", "failed")]
)
async def test_readiness_reports_the_bucket_without_failing_for_it(
    moto_server: MotoServer,
    s3_bucket: str,
    tmp_path: Path,
    bucket_exists: bool,
    status: str,
    outcome: str,
) -> None:
    bucket = s3_bucket if bucket_exists else "no-such-bucket"
    container = build_container(_s3_settings(moto_server, bucket, tmp_path))
    await start_services(container)
    try:
        async with serving(create_app(container, background_jobs=False)) as client:
            response = await client.get("/health/ready")
    finally:
        await stop_services(container)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": status,
        "checks": {"database": "ok", "files": outcome, "outbox": "ok"},
    }
