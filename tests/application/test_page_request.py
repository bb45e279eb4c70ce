"""A page request holds 1 to MAX_PAGE_SIZE items: checked where it is made, so no
repository sees another size."""

from __future__ import annotations

import pytest

from application.ports.persistence import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest
from domain.errors import InvalidValue


@pytest.mark.parametrize("limit", [1, 2, 99, 100])
def test_a_page_of_1_to_100_items_may_be_asked_for(limit: int) -> None:
    assert PageRequest(limit=limit, cursor="c").limit == limit


def test_a_page_holds_20_items_from_the_start_unless_told() -> None:
    page = PageRequest()
    assert (page.limit, page.cursor) == (DEFAULT_PAGE_SIZE, None) == (20, None)
    assert MAX_PAGE_SIZE == 100


@pytest.mark.parametrize("limit", [0, -1, 101, 10**9, True, 1.5, "5"])
def test_any_other_page_size_is_refused_naming_the_limit(limit: object) -> None:
    with pytest.raises(InvalidValue) as refused:
        PageRequest(limit=limit)  # type: ignore[arg-type]
    assert (refused.value.field, refused.value.reason) == ("limit", "must be between 1 and 100")
