"""Where a running app keeps its container: in the app's own state, set by `create_app`."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State

from entrypoints.container import Container

CONTAINER_KEY = "container"


def container_from_state(state: State) -> Container:
    """The container in an app's state (what Litestar injects as `state`)."""
    container: Container = state[CONTAINER_KEY]
    return container


def container_from_app(app: Any) -> Container:
    """The container of an app (`request.app`, `socket.app`, `connection.app`)."""
    return container_from_state(app.state)
