"""Redis adapters: cache, rate limiter and token store, sharing one `redis.asyncio.Redis`.

Named `redis_store` rather than `redis` so that no reader, tool or `sys.path` accident can
confuse this package with the `redis` client library it imports.
"""
