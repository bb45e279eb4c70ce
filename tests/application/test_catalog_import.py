"""Catalog import: every row checked first, then upserted by sku in batches."""

from __future__ import annotations

from typing import Any

import pytest

from application.catalog import CATALOG_GENERATION
from application.catalog_import import (
    InvalidRows,
    RowProblem,
    check_columns,
    check_rows,
    parse_price,
    parse_row,
)
from domain.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from domain.money import Money
from entrypoints.container import Container
from tests.application.shopping import Account


def record(**changes: Any) -> dict[str, Any]:
    return {
        "sku": "MUG-1",
        "name": "Mug",
        "description": "",
        "price": "12.50",
        "currency": "USD",
        "inventory_count": "3",
        "category": "Kitchen",
    } | changes


@pytest.mark.parametrize(
    ("value", "currency", "amount"),
    [
        (1250, "USD", 1250),
        ("1250", "USD", 1250),
        ("12.5", "USD", 1250),
        ("12.50", "USD", 1250),
        ("12.", "USD", 1200),
        ("500", "JPY", 500),
        ("1.5", "KWD", 1500),
    ],
)
def test_prices_are_minor_units_or_decimal_strings(value: Any, currency: str, amount: int) -> None:
    assert parse_price(value, currency) == Money(amount, currency)


@pytest.mark.parametrize("value", ["12.345", "1.5e3", "-1", "abc", 12.5, True, "", "1.5.0"])
def test_bad_prices_are_refused(value: Any) -> None:
    with pytest.raises(InvalidValue):
        parse_price(value, "USD")
    with pytest.raises(InvalidValue):
        parse_price("1.5", "JPY")


def test_unknown_and_missing_columns_are_named() -> None:
    with pytest.raises(InvalidValue, match="unknown column\\(s\\) colour"):
        check_columns([*record(), "colour"])
    with pytest.raises(InvalidValue, match="missing column\\(s\\) sku, price"):
        check_columns(["name", "inventory_count", "category"])


def test_every_bad_field_of_every_row_is_reported_with_its_line() -> None:
    rows, problems = check_rows(
        [
            (2, record()),
            (3, record(sku="", price="x", currency="EUR")),
            (4, record(inventory_count="-1", colour="red")),
            (5, record(name="Another mug")),  # the same sku as line 2
        ],
        "USD",
    )

    assert [row.line for row in rows] == [2]
    assert {(p.line, p.field) for p in problems} == {
        (3, "sku"),
        (3, "price"),
        (3, "currency"),
        (4, "inventory_count"),
        (4, "colour"),
        (5, "sku"),
    }
    assert str(RowProblem(5, "sku", "MUG-1 is also on line 2")) == (
        "line 5: sku: MUG-1 is also on line 2"
    )


def test_a_good_row_is_normalised() -> None:
    row = parse_row(7, record(name=" Mug ", category="Kitchen", currency=""), "USD")
    assert (row.line, row.name, row.category, row.price, row.inventory_count) == (
        7,
        "Mug",
        "kitchen",
        Money(1250, "USD"),
        3,
    )
    with pytest.raises(InvalidRows):
        parse_row(7, record(name=""), "USD")


async def test_import_upserts_by_sku_and_a_rerun_changes_nothing(
    shop: Container, staff: Account
) -> None:
    importer = shop.catalog_import()
    rows, _ = check_rows([(n, record(sku=f"S-{n}")) for n in range(2, 7)], "USD")

    dry = await importer.apply(staff.principal, rows, dry_run=True, batch_size=2)
    assert (dry.created, dry.updated, dry.unchanged) == (5, 0, 0)
    with pytest.raises(NotFound):
        await shop.catalog().get_product_by_sku("S-2")

    first = await importer.apply(staff.principal, rows, batch_size=2)
    again = await importer.apply(staff.principal, rows, batch_size=2)
    changed_rows, _ = check_rows([(2, record(sku="S-2", price="13.00"))], "USD")
    changed = await importer.apply(staff.principal, changed_rows)

    assert (first.created, again.created, again.updated, again.unchanged) == (5, 0, 0, 5)
    assert [(c.sku, c.action, c.fields) for c in changed.changes] == [("S-2", "update", ("price",))]
    assert (await shop.catalog().get_product_by_sku("S-2")).price == Money(1300, "USD")
    # Three batches, then one: each committed batch with a change bumps the generation.
    assert int(await shop.cache().get(CATALOG_GENERATION) or 0) == 4


async def test_a_sku_of_an_archived_product_is_refused(
    shop: Container, staff: Account, admin: Account
) -> None:
    rows, _ = check_rows([(2, record())], "USD")
    await shop.catalog_import().apply(staff.principal, rows)
    mug = await shop.catalog().get_product_by_sku("MUG-1")
    await shop.catalog().archive_product(admin.principal, mug.id)

    with pytest.raises(Conflict, match="line 2: sku MUG-1 belongs to an archived product"):
        await shop.catalog_import().apply(staff.principal, rows)


async def test_customers_cannot_import(shop: Container, customer: Account) -> None:
    rows, _ = check_rows([(2, record())], "USD")
    with pytest.raises(PermissionDenied):
        await shop.catalog_import().apply(customer.principal, rows)
