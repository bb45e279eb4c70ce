"""`hexmart worker` serves its own Prometheus metrics (HEXMART_WORKER_METRICS_PORT): job
runs by name and outcome, their duration, the outbox backlog and the queue length."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from arq import Retry
from prometheus_client.parser import text_string_to_metric_families

from entrypoints.worker_metrics import WorkerMetrics, _instrumented
from tests.entrypoints.worker.support import Queue, WorkerProcess, migrated_sqlite
from tests.polling import eventually
from tests.real_services import free_port


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_a_worker_process_serves_its_job_runs_and_backlog(
    queue: Queue, tmp_path: Path
) -> None:
    port = free_port()
    settings = {
        "HEXMART_DATABASE_URL": migrated_sqlite(tmp_path),
        "HEXMART_WORKER_METRICS_PORT": str(port),
    }
    worker = WorkerProcess(tmp_path, queue, settings)
    relayed = ("hexmart_jobs_total", frozenset({("job", "relay_outbox"), ("outcome", "succeeded")}))
    try:
        async with httpx.AsyncClient(timeout=2) as http:

            async def scraped() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
                assert worker.process.poll() is None, worker.log
                return _samples((await http.get(f"http://127.0.0.1:{port}/metrics")).text)

            samples = await eventually(
                scraped,
                lambda samples: (
                    samples.get(relayed, 0) >= 1
                    and ("hexmart_worker_last_sample_timestamp_seconds", frozenset()) in samples
                ),
                interval=0.1,
                ignoring=(httpx.TransportError,),
                message=lambda: worker.log,
            )
    finally:
        worker.terminate()

    started = ("hexmart_jobs_total", frozenset({("job", "relay_outbox"), ("outcome", "started")}))
    assert samples[started] >= samples[relayed]
    assert samples[("hexmart_job_duration_seconds_count", frozenset({("job", "relay_outbox")}))]
    assert samples[("hexmart_outbox_unhandled", frozenset())] == 0
    assert samples[("hexmart_outbox_oldest_age_seconds", frozenset())] == 0
    assert ("hexmart_queue_length", frozenset()) in samples


async def test_retries_and_failures_are_counted_by_job() -> None:
    metrics = WorkerMetrics()
    tries = iter([Retry(defer=1), ValueError("broken")])

    async def handle(_: dict[str, object], payload: dict[str, object]) -> bool:
        raise next(tries)

    job = _instrumented(handle, "handle_event", metrics)
    for _ in range(2):
        with pytest.raises((Retry, ValueError)):
            await job({}, {"name": "user_registered", "payload": {}})

    value = metrics.registry.get_sample_value
    assert value("hexmart_jobs_total", {"job": "handle_event", "outcome": "started"}) == 2
    assert value("hexmart_jobs_total", {"job": "handle_event", "outcome": "retried"}) == 1
    assert value("hexmart_jobs_total", {"job": "handle_event", "outcome": "failed"}) == 1
    assert value("hexmart_emails_total", {"outcome": "failed"}) == 1
