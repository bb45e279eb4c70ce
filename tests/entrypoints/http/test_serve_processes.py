"""`hexmart serve --workers 2` on a machine so busy that each child process takes longer
to start than uvicorn's default health-check timeout (5 s): it still comes up and serves,
and a child that dies is replaced with its cause in the log. Real processes: the command
itself, a redis-server of the test's own, a PostgreSQL database of the test session's.

The slow start is a `sitecustomize` module that holds each spawned child for
SLOW_START_SECONDS before it imports anything, as a loaded machine does."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.polling import eventually
from tests.real_services import PrivateRedis, free_port

pytestmark = [pytest.mark.integration, pytest.mark.fault]

SLOW_START_SECONDS = 7  # uvicorn's own health-check timeout is 5 s
# What a start-up may take on top of that on a machine whose cores are saturated.
BUSY_MACHINE_SECONDS = 90
PROJECT_ROOT = Path(__file__).resolve().parents[3]
SLOW_CHILDREN = """\
import os, sys, time
if "--multiprocessing-fork" in getattr(sys, "orig_argv", ()):
    time.sleep(float(os.environ["SLOW_START_SECONDS"]))
"""


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


class Serving:
    def __init__(self, tmp_path: Path, database_url: str, redis_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        slow = tmp_path / "slow"
        slow.mkdir()
        (slow / "sitecustomize.py").write_text(SLOW_CHILDREN)
        self.log_path = tmp_path / "serve.log"
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": f"{slow}{os.pathsep}{PROJECT_ROOT}",
            "SLOW_START_SECONDS": str(SLOW_START_SECONDS),
            "HEXMART_ENVIRONMENT": "test",
            "HEXMART_DATA_DIR": str(tmp_path / "var"),
            "HEXMART_DATABASE_URL": database_url,
            "HEXMART_REDIS_URL": redis_url,
        }
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "entrypoints.testing",
                    "serve",
                    "--workers",
                    "2",
                    "--port",
                    str(self.port),
                ],
                cwd=tmp_path,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def children(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", self.log)]

    async def until_both_children_started(self, within: float = 90) -> None:
        """The other child may still be finishing its start when the first one answers."""
        await eventually(
            lambda: len(self.children()) >= 2,
            within=within,
            interval=0.1,
            message=lambda: self.log,
        )

    async def until_serving(self, within: float) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:

            async def live() -> bool:
                assert self.process.poll() is None, f"hexmart serve exited:\n{self.log}"
                return (await client.get("/health/live")).status_code == 200

            await eventually(
                live,
                within=within,
                interval=0.1,
                ignoring=(httpx.TransportError,),
                message=lambda: f"not serving:\n{self.log}",
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
async def serving(
    tmp_path: Path, clean_postgres_url: str, private_redis: PrivateRedis
) -> AsyncIterator[Serving]:
    server = Serving(tmp_path, clean_postgres_url, private_redis.url)
    yield server
    server.stop()


async def test_slow_starting_children_are_not_killed_and_the_app_serves(serving: Serving) -> None:
    await serving.until_serving(within=SLOW_START_SECONDS + BUSY_MACHINE_SECONDS)
    await serving.until_both_children_started()
    assert "died" not in serving.log
    assert len(serving.children()) == 2


async def test_a_child_that_dies_is_replaced_and_its_cause_logged(serving: Serving) -> None:
    await serving.until_serving(within=SLOW_START_SECONDS + BUSY_MACHINE_SECONDS)
    await serving.until_both_children_started()
    first, _ = serving.children()
    os.kill(first, signal.SIGKILL)
    # The supervisor notices within a second when idle; on a saturated machine its pings
    # of the live child (each may wait for its answer) can delay the check.
    await eventually(
        lambda: "died" in serving.log,
        within=BUSY_MACHINE_SECONDS,
        interval=0.1,
        message=lambda: serving.log,
    )
    assert (
        f"WARNING uvicorn.error: Child process [{first}] died: killed by SIGKILL" in serving.log
    ), serving.log
    await eventually(
        lambda: len(serving.children()) >= 3,
        within=SLOW_START_SECONDS + BUSY_MACHINE_SECONDS,
        interval=0.1,
        message=lambda: serving.log,
    )
    await serving.until_serving(within=5)
