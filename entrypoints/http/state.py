"""Where a running app keeps its container: in the app's own state, set by `create_app`."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State

from entrypoints.container import Container

CONTAINER_KEY = "container"


def container_in(state: State) -> Container:
    container: Container = state[CONTAINER_KEY]
    return container


def container_of(app: Any) -> Container:
    return container_in(app.state)
