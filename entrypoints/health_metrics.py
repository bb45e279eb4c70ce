"""Health counters of the app: catalog cache hits and misses, the database pool (in use,
overflow, checkouts that found it exhausted and had to wait) and Redis errors.

They are fed from hooks, never by polling: SQLAlchemy's pool events, a callback of the
catalog cache, and the Redis adapters' outage log (`adapters/redis_store/outages.py`).
`attach` connects them to a container's services, `detach` undoes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.redis_store import outages
from entrypoints.metrics import gauge


class HealthMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.cache = Counter(
            "hexmart_cache_lookups",
            "Catalog cache lookups by result (hit or miss)",
            ["result"],
            registry=registry,
        )
        self.pool_in_use = gauge(
            "hexmart_db_pool_in_use",
            "Database connections checked out of the pool, by pool (primary, replica)",
            ("pool",),
            registry,
        )
        self.pool_overflow = gauge(
            "hexmart_db_pool_overflow",
            "Database connections open beyond the pool size, by pool",
            ("pool",),
            registry,
        )
        self.redis_errors = Counter(
            "hexmart_redis_errors",
            "Failed Redis calls, by what made them (cache, rate limiter, order updates, ...)",
            ["component"],
            registry=registry,
        )
        self._undo: list[Callable[[], None]] = []

    def cache_lookup(self, hit: bool) -> None:
        self.cache.labels("hit" if hit else "miss").inc()

    def attach(self, engines: dict[str, AsyncEngine]) -> None:
        for name, engine in engines.items():
            self._watch_pool(name, engine)
        outages.failure_listeners.append(self._redis_failed)
        self._undo.append(lambda: outages.failure_listeners.remove(self._redis_failed))

    def detach(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _redis_failed(self, component: str) -> None:
        self.redis_errors.labels(component).inc()

    def _watch_pool(self, name: str, engine: AsyncEngine) -> None:
        pool = engine.sync_engine.pool
        in_use = self.pool_in_use.labels(name)
        overflow = self.pool_overflow.labels(name)

        def overflowing() -> float:
            size = getattr(pool, "overflow", None)
            return float(max(0, size())) if callable(size) else 0.0

        def on_checkout(*_: Any) -> None:
            in_use.inc()
            overflow.set(overflowing())

        def on_checkin(*_: Any) -> None:
            in_use.dec()
            overflow.set(overflowing())

        for name_, listener in (("checkout", on_checkout), ("checkin", on_checkin)):
            event.listen(pool, name_, listener)
            self._undo.append(lambda n=name_, f=listener: event.remove(pool, n, f))
