from __future__ import annotations

from adapters.inprocess.cache import InMemoryCache
from application.ports.runtime import Cache
from tests.contract.cache_contract import CacheContract


class TestInMemoryCache(CacheContract):
    def make_cache(self) -> Cache:
        return InMemoryCache(self.clock)
