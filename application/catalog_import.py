"""Importing a catalog file: rows checked all at once, then upserted by sku in batches.

The file format (CSV, JSON Lines) is the caller's business: it hands over each record as a
mapping of column to value with its line number. `check_rows` validates every record and
reports every problem with its line and field; `CatalogImport.apply` then writes the rows
in batches, each batch in one transaction: a row whose sku is new creates a product, a row
whose product differs updates it, and an identical row changes nothing, so importing the
same file twice changes nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from application.audit import record_audit
from application.catalog import announce_catalog_change
from application.ports.persistence import DuplicateRecord, UnitOfWork, UnitOfWorkFactory
from application.ports.runtime import Cache, Clock, IdGenerator
from application.principal import STAFF_ROLES, Principal
from application.transactions import in_transaction
from domain.catalog import (
    Product,
    validate_category,
    validate_description,
    validate_inventory,
    validate_price,
    validate_sku,
)
from domain.currencies import minor_digits
from domain.errors import Conflict, InvalidValue
from domain.money import Money
from domain.users import Scope
from domain.values import required_text

COLUMNS = ("sku", "name", "description", "price", "currency", "inventory_count", "category")
REQUIRED = ("sku", "name", "price", "inventory_count", "category")
DEFAULT_BATCH_SIZE = 1000

_DECIMAL = re.compile(r"(\d+)(?:\.(\d*))?")


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


class InvalidRows(InvalidValue):
    """Some records of the file are invalid; nothing was written."""

    def __init__(self, problems: list[RowProblem]) -> None:
        lines = len({problem.line for problem in problems})
        super().__init__("file", f"{lines} invalid row(s); nothing was imported")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    sku: str
    name: str
    description: str
    price: Money
    inventory_count: int
    category: str


@dataclass(frozen=True, slots=True)
class RowChange:
    line: int
    sku: str
    action: str  # "create" or "update"
    fields: tuple[str, ...]  # the fields an update changes


@dataclass(slots=True)
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[RowChange] = field(default_factory=list)


def check_columns(columns: Iterable[str]) -> None:
    """Refuse unknown columns by name, and name the missing required ones."""
    given = [column.strip() for column in columns]
    unknown = [column for column in given if column not in COLUMNS]
    if unknown:
        raise InvalidValue(
            "columns", f"unknown column(s) {', '.join(unknown)}; allowed: {', '.join(COLUMNS)}"
        )
    missing = [column for column in REQUIRED if column not in given]
    if missing:
        raise InvalidValue("columns", f"missing column(s) {', '.join(missing)}")


def parse_price(value: Any, currency: str) -> Money:
    """Minor units (an integer, or a string of digits), or a decimal string with a point
    ("12.50": major units, at most the currency's number of decimals)."""
    if isinstance(value, bool) or value is None:
        raise InvalidValue("price", "is required")
    if isinstance(value, int):
        return validate_price(Money(value, currency))
    if not isinstance(value, str):
        raise InvalidValue("price", "must be minor units (1250) or a decimal string ('12.50')")
    match = _DECIMAL.fullmatch(value.strip())
    if match is None:
        raise InvalidValue("price", f"{value!r} is not minor units (1250) or a decimal (12.50)")
    whole, fraction = match.group(1), match.group(2)
    if fraction is None:
        return validate_price(Money(int(whole), currency))
    digits = minor_digits(currency)
    if len(fraction) > digits:
        raise InvalidValue("price", f"{value!r} has more decimals than {currency} allows")
    return validate_price(Money(int(whole + fraction.ljust(digits, "0")), currency))


def _whole_number(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidValue(name, "must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    raise InvalidValue(name, f"must be a whole number (got {value!r})")


def _text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def parse_row(line: int, record: Mapping[str, Any], currency: str) -> ImportRow:
    """One record, or InvalidRows naming each bad field of it."""
    problems: list[RowProblem] = []
    unknown = sorted(set(record) - set(COLUMNS))
    for name in unknown:
        problems.append(RowProblem(line, name, "unknown column"))
    values: dict[str, Any] = {}

    def check(name: str, parse: Callable[[Any], Any]) -> None:
        raw = _text(record.get(name))
        if name in REQUIRED and (raw is None or raw == ""):
            problems.append(RowProblem(line, name, "is required"))
            return
        try:
            values[name] = parse(raw)
        except InvalidValue as error:
            problems.append(RowProblem(line, name, error.reason))

    given_currency = _text(record.get("currency")) or currency
    if given_currency != currency:
        problems.append(RowProblem(line, "currency", f"must be the shop's currency {currency}"))
    check("sku", validate_sku)
    check("name", lambda v: required_text("name", v, 200))
    check("description", lambda v: validate_description(v or ""))
    check("price", lambda v: parse_price(v, currency))
    check("inventory_count", lambda v: validate_inventory(_whole_number("inventory_count", v)))
    check("category", validate_category)
    if problems:
        raise InvalidRows(problems)
    return ImportRow(line=line, **values)


def check_rows(
    records: Iterable[tuple[int, Mapping[str, Any]]],
    currency: str,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[ImportRow], list[RowProblem]]:
    """Every record checked; returns the good rows and every problem (a sku given on two
    lines is a problem of the second)."""
    rows: list[ImportRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for line, record in records:
        try:
            row = parse_row(line, record, currency)
        except InvalidRows as error:
            problems.extend(error.problems)
        else:
            if row.sku in seen:
                problems.append(
                    RowProblem(line, "sku", f"{row.sku} is also on line {seen[row.sku]}")
                )
            else:
                seen[row.sku] = line
                rows.append(row)
        if progress is not None:
            progress(1)
    return rows, problems


def _differences(product: Product, row: ImportRow) -> tuple[str, ...]:
    return tuple(
        name
        for name, old, new in (
            ("name", product.name, row.name),
            ("description", product.description, row.description),
            ("price", product.price, row.price),
            ("inventory_count", product.inventory_count, row.inventory_count),
            ("category", product.category, row.category),
        )
        if old != new
    )


class CatalogImport:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        ids: IdGenerator,
        cache: Cache | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._ids = ids
        self._cache = cache

    async def apply(
        self,
        actor: Principal,
        rows: Sequence[ImportRow],
        *,
        dry_run: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        """Upsert `rows` by sku, `batch_size` rows per transaction (dry run: read only,
        nothing written). A sku held by an archived product is refused (Conflict) with
        its line; the batches before it stay imported, and a re-run skips them."""
        actor.require(STAFF_ROLES, Scope.PRODUCTS_WRITE)
        if batch_size <= 0:
            raise InvalidValue("batch_size", "must be positive")
        result = ImportResult()
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            if dry_run:
                async with self._uow_factory() as uow:
                    changes, unchanged = await self._batch(uow, actor, batch, write=False)
            else:

                async def write(
                    uow: UnitOfWork, batch: Sequence[ImportRow] = batch
                ) -> tuple[list[RowChange], int]:
                    return await self._batch(uow, actor, batch, write=True)

                changes, unchanged = await in_transaction(self._uow_factory, write)
                if changes:
                    await announce_catalog_change(self._cache)
            result.changes.extend(changes)
            result.created += sum(1 for c in changes if c.action == "create")
            result.updated += sum(1 for c in changes if c.action == "update")
            result.unchanged += unchanged
            if progress is not None:
                progress(len(batch))
        return result

    async def _batch(
        self, uow: UnitOfWork, actor: Principal, batch: Sequence[ImportRow], *, write: bool
    ) -> tuple[list[RowChange], int]:
        existing = {
            product.sku: product
            for product in await uow.products.get_by_skus(
                [row.sku for row in batch], for_update=write
            )
        }
        now = self._clock.now()
        new: list[Product] = []
        changed: list[Product] = []
        changes: list[RowChange] = []
        unchanged = 0
        for row in batch:
            product = existing.get(row.sku)
            if product is None:
                new.append(
                    Product(
                        id=self._ids.new_id(),
                        sku=row.sku,
                        name=row.name,
                        description=row.description,
                        price=row.price,
                        inventory_count=row.inventory_count,
                        category=row.category,
                        created_at=now,
                        updated_at=now,
                    )
                )
                changes.append(RowChange(row.line, row.sku, "create", ()))
                continue
            if product.is_archived:
                raise Conflict(
                    f"line {row.line}: sku {row.sku} belongs to an archived product; "
                    "give the row another sku"
                )
            fields = _differences(product, row)
            if not fields:
                unchanged += 1
                continue
            product.change_details(
                now,
                name=row.name,
                description=row.description,
                price=row.price,
                inventory_count=row.inventory_count,
                category=row.category,
            )
            changed.append(product)
            changes.append(RowChange(row.line, row.sku, "update", fields))
        if write:
            try:
                await uow.products.add_many(new)
            except DuplicateRecord:
                raise Conflict(
                    "another writer created products with these skus meanwhile; run the "
                    "import again"
                ) from None
            for product in changed:
                await uow.products.save(product)
            if changes:
                await record_audit(
                    uow,
                    self._ids,
                    self._clock,
                    actor,
                    "catalog.import",
                    ("catalog", "products"),
                    {
                        "lines": f"{batch[0].line}-{batch[-1].line}",
                        "created": len(new),
                        "updated": len(changed),
                    },
                )
        return changes, unchanged
