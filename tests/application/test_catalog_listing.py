"""The catalog's listing rules: what a shopper's query becomes before storage sees it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.catalog import ProductQuery, product_listing
from application.ports.persistence import PageRequest, ProductListing, ProductSort
from domain.errors import InvalidValue


def test_archived_products_are_never_listed() -> None:
    assert product_listing(ProductQuery()).archived is False
    assert product_listing(ProductQuery(text="lamp", in_stock=False)).archived is False


def test_the_category_is_looked_up_trimmed_and_lower_cased() -> None:
    assert product_listing(ProductQuery(category=" KITCHEN ")).category == "kitchen"
    assert product_listing(ProductQuery(category="Garden\t")).category == "garden"
    assert product_listing(ProductQuery()).category is None


def test_an_empty_category_stays_a_filter_that_matches_nothing() -> None:
    assert product_listing(ProductQuery(category="")).category == ""
    assert product_listing(ProductQuery(category="   ")).category == ""


def test_the_text_is_searched_for_lower_cased_and_empty_text_is_no_filter() -> None:
    assert product_listing(ProductQuery(text="TeA")).text == "tea"
    assert product_listing(ProductQuery(text="STRASSE")).text == "strasse"
    assert product_listing(ProductQuery(text=" Mug ")).text == " mug "
    assert product_listing(ProductQuery(text="")).text is None
    assert product_listing(ProductQuery()).text is None


def test_bounds_stock_sort_and_page_pass_through_unchanged() -> None:
    page = PageRequest(limit=7, cursor="abc")
    query = ProductQuery(
        min_price=0, max_price=500, in_stock=True, sort=ProductSort.PRICE_LOW_FIRST, page=page
    )
    assert product_listing(query) == ProductListing(
        archived=False,
        min_price=0,
        max_price=500,
        in_stock=True,
        sort=ProductSort.PRICE_LOW_FIRST,
        page=page,
    )
    assert product_listing(ProductQuery(min_price=300, max_price=300)).max_price == 300
    assert product_listing(ProductQuery(in_stock=False)).in_stock is False


@given(text=st.text(max_size=200), category=st.text(max_size=50))
def test_listing_a_query_twice_gives_the_same_listing(text: str, category: str) -> None:
    once = product_listing(ProductQuery(text=text, category=category))
    again = product_listing(ProductQuery(text=once.text, category=once.category))
    assert again == once


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        (ProductQuery(min_price=-1), "min_price", "must not be negative"),
        (ProductQuery(max_price=-5), "max_price", "must not be negative"),
        (
            ProductQuery(min_price=500, max_price=100),
            "min_price",
            "must not be greater than max_price",
        ),
        (ProductQuery(text="x" * 201), "q", "must be at most 200 characters"),
    ],
    ids=["negative-min", "negative-max", "min-above-max", "long-text"],
)
def test_bad_queries_are_refused_naming_the_field(
    query: ProductQuery, field: str, reason: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        product_listing(query)
    assert (refused.value.field, refused.value.reason) == (field, reason)


def test_text_of_exactly_200_characters_is_accepted() -> None:
    assert product_listing(ProductQuery(text="x" * 200)).text == "x" * 200
