"""The cache and the rate limiter on a real Redis Cluster: three `redis-server`s in cluster
mode joined with `redis-cli --cluster create`, started by the test on free ports. Every
command touches one key, so keys spread over the nodes and no script crosses slots."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster

from adapters.redis_store.cache import RedisCache
from adapters.redis_store.client import create_redis_cluster_client
from adapters.redis_store.rate_limiter import RedisRateLimiter
from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import serving
from tests.polling import eventually_sync
from tests.real_services import PrivateRedis, free_port

pytestmark = pytest.mark.integration

NODES = 3
START_SECONDS = 60.0  # a poll: returns as soon as the servers answer


def cluster_port() -> int:
    """A free port whose cluster bus port (10000 higher, so at most 55535) is free too."""
    while True:
        port = free_port()
        if port <= 55535:
            with contextlib.suppress(OSError), socket.socket() as probe:
                probe.bind(("127.0.0.1", port + 10000))
                return port


def _cli(*arguments: str) -> str:
    completed = subprocess.run(
        ["redis-cli", *arguments], capture_output=True, text=True, timeout=30, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    """The ports of a 3-primary Redis Cluster, ready (cluster_state:ok on every node)."""
    folder = tmp_path_factory.mktemp("redis-cluster")
    executable = shutil.which("redis-server")
    assert executable is not None, "redis-server is not installed"
    ports = [cluster_port() for _ in range(NODES)]
    processes = []
    try:
        for port in ports:
            processes.append(
                subprocess.Popen(
                    [
                        executable,
                        "--bind",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--dir",
                        str(folder),
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        f"nodes-{port}.conf",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in ports:

            def answers(port: int = port) -> bool:
                assert all(p.poll() is None for p in processes), "a redis-server exited"
                return (
                    subprocess.run(
                        ["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False
                    ).stdout.strip()
                    == b"PONG"
                )

            eventually_sync(
                answers, within=START_SECONDS, message=f"redis-server on {port} did not start"
            )
        _cli("--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
             "--cluster-replicas", "0", "--cluster-yes")  # fmt: skip
        for port in ports:

            def cluster_ok(port: int = port) -> bool:
                return "cluster_state:ok" in _cli("-p", str(port), "cluster", "info")

            eventually_sync(
                cluster_ok,
                within=START_SECONDS,
                message="the cluster did not become ready",
            )
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


@pytest.fixture
async def client(cluster: list[int]) -> AsyncIterator[RedisCluster]:
    redis = create_redis_cluster_client(f"redis://127.0.0.1:{cluster[0]}/0")
    yield redis
    await redis.aclose()


def keys_per_node(ports: list[int]) -> list[int]:
    return [int(_cli("-p", str(port), "dbsize").strip()) for port in ports]


async def test_the_cache_works_on_a_cluster_with_keys_on_every_node(
    client: RedisCluster, cluster: list[int]
) -> None:
    cache = RedisCache(client, prefix="hexmart-cluster-cache:", cluster=True)
    for n in range(60):
        await cache.set(f"entry-{n}", f"value-{n}".encode(), 60)
    assert all(count > 0 for count in keys_per_node(cluster))
    assert [await cache.get(f"entry-{n}") for n in (0, 59)] == [b"value-0", b"value-59"]
    await cache.delete("entry-0")
    assert await cache.get("entry-0") is None

    # A generation counter and the entries stored under it, on different nodes.
    assert await cache.get_versioned("generation", "listing:") == (0, None)
    assert await cache.incr("generation") == 1
    await cache.set("listing:1?page=2", b"page two", 60)
    assert await cache.get_versioned("generation", "listing:", "?page=2") == (1, b"page two")
    assert await cache.incr("generation") == 2
    assert await cache.get_versioned("generation", "listing:", "?page=2") == (2, None)


async def test_the_rate_limit_is_shared_by_two_processes_on_a_cluster(cluster: list[int]) -> None:
    first = create_redis_cluster_client(f"redis://127.0.0.1:{cluster[0]}/0")
    second = create_redis_cluster_client(f"redis://127.0.0.1:{cluster[2]}/0")
    try:
        limiters = [RedisRateLimiter(r, prefix="hexmart-cluster-rate:") for r in (first, second)]
        for n in range(20):  # keys in many slots
            key = f"ip:10.0.0.{n}"
            decisions = [
                await limiters[i % 2].hit(key, limit=3, window_seconds=60) for i in range(4)
            ]
            assert [d.allowed for d in decisions] == [True, True, True, False]
            peeked = await limiters[1].peek(key, limit=3, window_seconds=60)
            assert not peeked.allowed
            assert peeked.retry_after_seconds >= 1
    finally:
        await first.aclose()
        await second.aclose()


async def test_the_app_runs_its_cache_on_a_cluster(cluster: list[int], tmp_path: Path) -> None:
    main = PrivateRedis(tmp_path)
    main.start()
    settings = settings_for_tests(
        redis_url=main.url,
        redis_cache_url=f"redis://127.0.0.1:{cluster[1]}/0",
        redis_cache_cluster=True,
    )
    try:
        shop = in_memory_container(settings)
        async with serving(create_app(shop, background_jobs=False)) as http:
            ready = await http.get("/health/ready")
            products = [await http.get("/products") for _ in range(2)]
    finally:
        main.stop()
    assert ready.json()["checks"] == {
        "database": "ok",
        "redis": "ok",
        "redis_cache": "ok",
        "outbox": "ok",
        "worker": "degraded",  # no worker runs here
    }
    assert [p.status_code for p in products] == [200, 200]
