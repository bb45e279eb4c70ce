"""Helpers for the worker tests: a real arq worker run in this process, against the shared
Redis (a queue and job ids of the test's own), and a shop to drive through it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from adapters.arq_queue.task_queue import ArqTaskQueue, create_arq_redis
from adapters.sql.migrate import upgrade_to_head
from application.catalog import NewProduct
from application.orders import PlacedOrder
from domain.money import Money
from entrypoints.container import Container
from entrypoints.testing import settings_for_tests
from entrypoints.worker import worker_options
from entrypoints.worker_process import HexmartWorker
from tests.application.shopping import PASSWORD, Account, an_address, sign_in
from tests.polling import eventually
from tests.real_services import SHARED_REDIS_URL

SENDER = "hexmart <no-reply@hexmart.test>"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
# arq 0.28's Worker.close calls redis-py's deprecated close(); not ours to fix.
ARQ_CLOSES_WITH_DEPRECATED_CALL = "ignore:Call to deprecated close:DeprecationWarning"


@dataclass
class Queue:
    """Where this test's jobs go in the shared Redis."""

    redis: Redis
    prefix: str
    url: str = SHARED_REDIS_URL

    @property
    def name(self) -> str:
        return f"{self.prefix}queue"

    def task_queue(self, url: str | None = None) -> tuple[ArqTaskQueue, Redis]:
        connection = create_arq_redis(url or self.url, queue_name=self.name)
        return ArqTaskQueue(connection, queue_name=self.name, job_id_prefix=self.prefix), connection


@contextlib.asynccontextmanager
async def running_worker(
    shop: Container, queue: Queue, *, redis_url: str | None = None, **options: Any
) -> AsyncIterator[HexmartWorker]:
    """A real arq worker for `shop`, polling often, until the block ends."""
    settings = settings_for_tests(redis_url=redis_url or queue.url)
    worker = HexmartWorker(
        **worker_options(
            settings,
            container=shop,
            queue_name=queue.name,
            job_id_prefix=queue.prefix,
            **{"relay_every_seconds": 1, "handle_signals": False, "poll_delay": 0.05, **options},
        )
    )
    task = asyncio.create_task(worker.async_run())
    try:
        yield worker
    finally:
        if not task.done():
            # Stop as SIGTERM does: no new job, and the jobs in hand finish, arq's
            # bookkeeping (storing their results) included. `close` alone would cancel them
            # wherever they are, leaving the state the test checks next half-written.
            worker.handle_sig_wait_for_completion(signal.SIGTERM)
            await asyncio.wait([task], timeout=float(worker._job_completion_wait) + 10)
        # Let the jobs a stop cancelled put themselves back on the queue before `close`
        # cancels what is unfinished.
        await asyncio.wait([*worker.tasks.values()], timeout=10) if worker.tasks else None
        await worker.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def sign_up(shop: Container, email: str, full_name: str) -> Account:
    await shop.authentication().register(email=email, password=PASSWORD, full_name=full_name)
    return await sign_in(shop, email)


async def place_an_order(shop: Container, buyer: Account, *, key: str = "key-1") -> PlacedOrder:
    """An admin stocks a mug; `buyer` orders two."""
    await shop.user_accounts().ensure_first_admin(email="root@example.com", password=PASSWORD)
    admin = await sign_in(shop, "root@example.com")
    mug = await shop.catalog().create_product(
        admin.principal, NewProduct("Mug", "A mug for tea", Money(1200, "USD"), 5, "kitchen")
    )
    await shop.carts().set_item(buyer.principal, mug.id, 2)
    return await shop.orders().place_order(
        buyer.principal, idempotency_key=key, shipping_address=an_address()
    )


def subjects(received: list[Any]) -> list[str]:
    return sorted(str(r.mime["Subject"]) for r in received)


def migrated_sqlite(folder: Path) -> str:
    """A SQLite file database in `folder`, migrated to head: one database that this test
    and the worker processes it starts all use."""
    url = f"sqlite+aiosqlite:///{folder / 'shop.db'}"
    upgrade_to_head(url)
    return url


class WorkerProcess:
    """`hexmart worker` (entrypoints.worker.run_worker) in a process of its own, with the
    `HEXMART_*` settings given; its log goes to a file in `folder`."""

    def __init__(self, folder: Path, queue: Queue, settings: dict[str, str], **options: Any):
        self.log_path = folder / f"worker-{uuid.uuid4().hex[:6]}.log"
        arguments = ", ".join(
            f"{name}={value!r}"
            for name, value in {
                "queue_name": queue.name,
                "job_id_prefix": queue.prefix,
                **options,
            }.items()
        )
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(PROJECT_ROOT),
            "HEXMART_ENVIRONMENT": "test",
            "HEXMART_DATA_DIR": str(folder / "var"),
            "HEXMART_REDIS_URL": queue.url,
            **settings,
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import functools\n"
                    "from entrypoints.testing import worker_container_on_queue\n"
                    "from entrypoints.worker import run_worker\n"
                    "compose = functools.partial(worker_container_on_queue, "
                    f"queue_name={queue.name!r}, job_id_prefix={queue.prefix!r})\n"
                    f"run_worker(compose=compose, {arguments})",
                ],
                cwd=folder,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no clean-up, as in a crash or an OOM kill."""
        self.process.kill()
        self.process.wait(timeout=10)

    def terminate(self) -> int:
        """SIGTERM, then wait for the process to end; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


async def until_worker_polls(queue: Queue) -> None:
    """Wait for a worker on `queue` to be up: arq records its health at its first poll of
    the queue, after the worker has installed its signal handlers."""
    await eventually(
        lambda: queue.redis.exists(f"{queue.name}:health-check"),
        message="the worker never started",
    )
