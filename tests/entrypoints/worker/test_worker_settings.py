"""`arq entrypoints.worker.WorkerSettings` builds hexmart's worker from the environment,
read when arq builds the worker, not at import."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from arq.worker import create_worker

from entrypoints.testing import in_memory_container, settings_for_tests
from entrypoints.worker import (
    RESULT_KEPT,
    SHUTDOWN_GRACE_SECONDS,
    WorkerSettings,
    shutdown,
    startup,
    worker_options,
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file
    for name in [n for n in os.environ if n.startswith("HEXMART_")]:
        monkeypatch.delenv(name)


async def test_arq_builds_hexmart_s_worker_from_the_hexmart_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEXMART_REDIS_URL", "redis://127.0.0.1:6379/9")
    worker = create_worker(WorkerSettings, handle_signals=False)
    try:
        assert set(worker.functions) == {
            "handle_event",
            "hexmart:relay_outbox",
            "hexmart:deliver_local_payments",
            "hexmart:expire_unpaid_orders",
            "hexmart:reconcile_payments",
            "hexmart:purge_old_records",
        }
        assert worker.queue_name == "hexmart:queue"
        assert worker.allow_abort_jobs
        assert worker._job_completion_wait == SHUTDOWN_GRACE_SECONDS
        assert worker.keep_result_s == RESULT_KEPT.total_seconds() <= 10
        assert worker.pool.connection_pool.connection_kwargs["db"] == 9
    finally:
        await worker.pool.aclose()


def test_without_a_redis_url_the_worker_says_what_is_missing() -> None:
    with pytest.raises(ValueError, match="HEXMART_REDIS_URL"):
        create_worker(WorkerSettings)


def test_options_can_be_overridden_for_one_worker() -> None:
    options = worker_options(
        settings_for_tests(redis_url="redis://127.0.0.1:6379/9"), burst=True, max_tries=2
    )
    assert options["burst"] is True
    assert options["max_tries"] == 2
    assert options["ctx"]["max_tries"] == 2


@pytest.mark.parametrize(
    ("public_base_url", "warned"), [(None, True), ("https://shop.example", False)]
)
async def test_a_worker_without_a_public_url_warns_where_its_email_links_point(
    caplog: pytest.LogCaptureFixture, public_base_url: str | None, warned: bool
) -> None:
    settings = settings_for_tests(
        redis_url="redis://127.0.0.1:6379/9", public_base_url=public_base_url
    )
    ctx = {"settings": settings, "container": in_memory_container(settings)}

    await startup(ctx)
    await shutdown(ctx)

    warning = "HEXMART_PUBLIC_BASE_URL is not set: links in the emails this worker sends"
    assert (f"{warning} point at http://127.0.0.1:8000" in caplog.text) is warned
