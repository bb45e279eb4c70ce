"""Catalog reads answered from the `Cache` port (in process, or Redis shared by every app
process): the encoded response bytes of GET /products and GET /products/{id}, keyed by the
catalog's generation and the normalised query.

Every product change, and stock taken or given back by orders, bumps the generation after
its commit (application.catalog.announce_catalog_change), so the next read after a change
misses and sees it at once; old entries are simply never read again and expire. The TTL
(`HEXMART_CATALOG_CACHE_TTL_SECONDS`, 0 turns caching off) bounds how long a missed bump
leaves an answer stale: one lost to a cache outage, or a change the CLI made on the
embedded default (it cannot reach the server's in-process cache). The cache is best
effort: a miss or an outage only means the database answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping

from application.catalog import CATALOG_GENERATION
from application.ports.runtime import Cache

KEY_PREFIX = "catalog:response:"


class CatalogResponses:
    def __init__(
        self,
        cache: Cache,
        ttl_seconds: int,
        on_lookup: Callable[[bool], None] | None = None,
    ) -> None:
        self._cache = cache
        self._ttl = ttl_seconds
        self._on_lookup = on_lookup  # told whether each lookup hit (for the metrics)

    async def cached(
        self,
        what: str,
        parameters: Mapping[str, object],
        produce: Callable[[], Awaitable[bytes]],
    ) -> bytes:
        """The cached answer to `what` with `parameters`, or `produce()`'s, then cached.
        An error raised by `produce` (a 404, say) is not cached."""
        if self._ttl <= 0:
            return await produce()
        canonical = json.dumps(dict(parameters), sort_keys=True, default=str)
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:40]
        suffix = f":{what}:{digest}"
        # The generation and the entry under it in one cache round trip, not two.
        generation, body = await self._cache.get_versioned(CATALOG_GENERATION, KEY_PREFIX, suffix)
        if self._on_lookup is not None:
            self._on_lookup(body is not None)
        if body is not None:
            return body
        body = await produce()
        await self._cache.set(f"{KEY_PREFIX}{generation}{suffix}", body, self._ttl)
        return body
