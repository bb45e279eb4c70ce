"""`ClosedAtShutdown`: a dependency-injector `Resource` made on first use and closed by
`container.shutdown_resources()`.

dependency-injector's own resources close asynchronously only when they are also made
asynchronously (an async generator or context manager), and then every provider that
depends on one hands out awaitables too. hexmart's pools and clients are made
synchronously (making them opens nothing) but close asynchronously, and the use cases that
depend on them are built with plain calls, so this provider makes its object like a
Singleton and, at shutdown, returns the awaitable of the object's close method. Resources
are closed after every resource that depends on them, directly or through plain providers
(`shutdown_resources` orders them by `related`, which this provider extends to what it
reaches through use cases); one never made or whose provider is overridden (a test's
double) is not closed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from dependency_injector import providers


def _made(make: Callable[..., Any], *args: Any, **kwargs: Any) -> Iterator[Any]:
    """The object as a context manager that does nothing on exit: a Resource enters the
    context managers it is given (a Redis client is an async one, which would make the
    provider asynchronous), and this one hands the object out as it is."""
    yield make(*args, **kwargs)


class ClosedAtShutdown(providers.Resource):  # type: ignore[type-arg]
    """`ClosedAtShutdown(make, *args, close="aclose", **kwargs)`: `make(*args, **kwargs)`
    on first use; `await <object>.<close>()` at `container.shutdown_resources()`. A `make`
    that returns None (nothing configured) leaves nothing to close."""

    def __init__(self, provides: Any = None, *args: Any, close: str = "aclose", **kwargs: Any):
        if provides is None:  # a copy being made (see __deepcopy__)
            super().__init__()
        else:
            super().__init__(_made, provides, *args, **kwargs)
        self.close_method = close

    def __deepcopy__(self, memo: dict[Any, Any] | None) -> ClosedAtShutdown:
        # dependency-injector copies a declared container's providers into each instance.
        copied = super().__deepcopy__(memo)
        assert isinstance(copied, ClosedAtShutdown)
        copied.close_method = self.close_method
        return copied

    @property
    def related(self) -> Iterator[Any]:
        """Its direct dependencies, and every resource it reaches through plain providers
        (the in-process task runner reaches the database engine through the message bus
        and the unit of work): `shutdown_resources` closes a resource only after each one
        whose `related` names it, and by itself looks at direct dependencies only."""
        direct = list(super().related)
        yield from direct
        seen: set[int] = set()
        waiting = list(direct)
        while waiting:
            provider = waiting.pop()
            if id(provider) in seen or provider is self:
                continue
            seen.add(id(provider))
            if isinstance(provider, providers.BaseResource):
                yield provider  # what it uses is closed after it in turn
                continue
            waiting.extend(provider.related)

    def is_async_mode_enabled(self) -> bool:
        # Tells `shutdown_resources` to await what `shutdown` returns; the object itself
        # is still handed out synchronously.
        return True

    def shutdown(self) -> Awaitable[Any] | None:
        if not self.initialized:
            return None
        resource = self._provide((), {})  # type: ignore[attr-defined]
        super().shutdown()
        if resource is None:
            return None
        close: Awaitable[Any] = getattr(resource, self.close_method)()
        return close
