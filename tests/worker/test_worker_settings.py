"""`arq entrypoints.worker.WorkerSettings` builds hexmart's worker from the environment,
read when arq builds the worker, not at import."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from arq.worker import create_worker

from entrypoints.testing import settings_for_tests
from entrypoints.worker import (
    RESULT_KEPT,
    SHUTDOWN_GRACE_SECONDS,
    WorkerSettings,
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
