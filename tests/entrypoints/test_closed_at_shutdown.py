"""What must be closed is a `ClosedAtShutdown` resource: made on first use and handed out
as it is, closed by `shutdown_resources()` after what uses it, never when never made or
when a test replaced it."""

from __future__ import annotations

from dependency_injector import containers, providers

from entrypoints.lifecycle import ClosedAtShutdown


class Pool:
    """Like a Redis client: an async context manager, closed with `aclose`."""

    def __init__(self, name: str, closed: list[str], uses: Pool | None = None) -> None:
        self.name, self.closed, self.uses = name, closed, uses

    async def __aenter__(self) -> Pool:
        raise AssertionError("a resource must not be entered")

    async def __aexit__(self, *_: object) -> None:
        raise AssertionError("a resource must not be exited")

    async def aclose(self) -> None:
        assert self.uses is None or self.uses.name not in self.closed, "closed before a user"
        self.closed.append(self.name)

    async def dispose(self) -> None:
        self.closed.append(f"{self.name} disposed")


class Shop(containers.DeclarativeContainer):
    closed = providers.Singleton(list)
    engine = ClosedAtShutdown(Pool, "engine", closed, close="dispose")
    pool = ClosedAtShutdown(Pool, "pool", closed)
    client = ClosedAtShutdown(Pool, "client", closed, pool)
    never_used = ClosedAtShutdown(Pool, "never used", closed)
    service = providers.Singleton(lambda client: ("service", client), client)
    # A runner that reaches the engine only through a use case, as the in-process task
    # runner reaches the database through the message bus and the unit of work.
    use_case = providers.Singleton(lambda engine: ("use case", engine), engine)
    runner = ClosedAtShutdown(lambda use_case, closed: Pool("runner", closed), use_case, closed)


async def test_resources_are_handed_out_synchronously_and_closed_after_their_users() -> None:
    shop = Shop()

    _, client = shop.service()
    assert isinstance(client, Pool)
    assert client.uses is shop.pool()
    shop.engine()
    await shop.shutdown_resources()

    closed = shop.closed()
    assert sorted(closed) == ["client", "engine disposed", "pool"]
    assert closed.index("client") < closed.index("pool")


async def test_a_replaced_or_unused_resource_is_not_closed() -> None:
    shop = Shop()
    shop.pool.override(providers.Object(Pool("the test's own", shop.closed())))

    shop.pool()
    await shop.shutdown_resources()

    assert shop.closed() == []


async def test_a_closed_resource_is_made_anew_when_used_again() -> None:
    shop = Shop()
    first = shop.pool()
    await shop.shutdown_resources()

    assert shop.pool() is not first
    await shop.shutdown_resources()
    assert shop.closed() == ["pool", "pool"]


async def test_a_resource_reached_through_a_use_case_is_closed_after_its_user() -> None:
    shop = Shop()
    shop.runner()
    shop.use_case()
    await shop.shutdown_resources()

    closed = shop.closed()
    assert sorted(closed) == ["engine disposed", "runner"]
    assert closed.index("runner") < closed.index("engine disposed")
