"""Shapes shared by every resource: money, problems, pagination parameters, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, TypeVar

import msgspec
from litestar.params import QueryParameter

from application.ports.persistence import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest
from domain import money
from domain.errors import InvalidValue

T = TypeVar("T")


def given(value: T | msgspec.UnsetType) -> T | None:
    """A PATCH field's value, or None when the client left it out."""
    return None if isinstance(value, msgspec.UnsetType) else value


class Money(msgspec.Struct, forbid_unknown_fields=True):
    """An integer number of minor units and an ISO 4217 currency code. Never a float."""

    amount: int
    currency: str


def money_out(value: money.Money) -> Money:
    return Money(amount=value.amount, currency=value.currency)


def money_in(field: str, value: Money) -> money.Money:
    """The domain's Money, with validation errors named after the request field."""
    try:
        return money.Money(value.amount, value.currency)
    except InvalidValue as error:
        raise InvalidValue(f"{field}.{error.field}", error.reason) from None


def rfc3339(moment: datetime) -> datetime:
    """Timestamps leave the API in UTC (msgspec writes them as RFC 3339 with a `Z`)."""
    return moment.astimezone(UTC)


class FieldError(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details, served as `application/problem+json`."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | msgspec.UnsetType = msgspec.UNSET


Limit = Annotated[
    int,
    QueryParameter(
        ge=1, le=MAX_PAGE_SIZE, description=f"page size, 1..{MAX_PAGE_SIZE}", required=False
    ),
]
Cursor = Annotated[
    str | None,
    QueryParameter(description="`next_cursor` of the previous page", max_length=1024),
]


def page_request(limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor or None)
