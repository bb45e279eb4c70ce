"""Asserting a refusal as a client sees it: the problem details of an InvalidValue carry
its `field` and `reason`, so a test pins both, not just the error class."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from domain.errors import DomainError, InvalidValue


@contextmanager
def refused(field: str, reason: str) -> Iterator[None]:
    """The block must raise InvalidValue for exactly `field` with exactly `reason`."""
    with pytest.raises(InvalidValue) as caught:
        yield
    assert (caught.value.field, caught.value.reason) == (field, reason)
    assert caught.value.message == f"{field}: {reason}"


@contextmanager
def fails_with(error: type[DomainError], message: str) -> Iterator[None]:
    """The block must raise `error` (or a subclass) with exactly `message`: the detail a
    client reads in the problem details."""
    with pytest.raises(error) as caught:
        yield
    assert caught.value.message == message
