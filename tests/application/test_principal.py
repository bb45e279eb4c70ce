"""Who may do what: an API key acts with exactly its scopes, never more."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from application.principal import STAFF_ROLES, Principal
from domain.users import Scope


@given(
    granted=st.frozensets(st.sampled_from(list(Scope)), min_size=1),
    asked=st.sampled_from(list(Scope)),
)
def test_an_api_key_may_use_exactly_its_scopes(granted: frozenset[Scope], asked: Scope) -> None:
    assert Principal.api_key("key-1", granted).may(STAFF_ROLES, asked) is (asked in granted)


def test_a_read_key_may_not_write() -> None:
    key = Principal.api_key("key-1", frozenset({Scope.PRODUCTS_READ}))

    assert key.may(STAFF_ROLES, Scope.PRODUCTS_READ)
    assert not key.may(STAFF_ROLES, Scope.PRODUCTS_WRITE)
    assert not key.may(STAFF_ROLES, Scope.ORDERS_READ)
