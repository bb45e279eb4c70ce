"""`hexmart catalog import/export` and `hexmart inventory adjust`."""

from __future__ import annotations

import contextlib
import csv
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from entrypoints.commands.runtime import (
    EXIT_USAGE,
    acting,
    fail,
    guarded,
    json_option,
    load_settings,
    print_json,
    progress_bar,
    run,
)

if TYPE_CHECKING:
    from application.catalog_import import ImportResult
    from application.principal import Principal
    from domain.catalog import Product
    from entrypoints.container import Container

FORMATS = click.Choice(["csv", "jsonl"])
# Rows shown by --dry-run before "... and N more".
DRY_RUN_SHOWN = 1000


@click.group()
def catalog() -> None:
    """The catalog as a file: import (upsert by sku) and export."""


def _format_of(path: Path, given: str | None) -> str:
    if given is not None:
        return given
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    fail(f"{path}: cannot tell the format from the name; pass --format csv|jsonl", EXIT_USAGE)


def _csv_records(text: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    from application.catalog_import import check_columns

    reader = csv.DictReader(text)
    check_columns(reader.fieldnames or [])
    line = reader.line_num + 1
    for record in reader:
        yield line, {k: v for k, v in record.items() if k is not None}
        line = reader.line_num + 1


def _jsonl_records(text: IO[str], problems: list[Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    from application.catalog_import import RowProblem

    for number, raw in enumerate(text, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError as error:
            problems.append(RowProblem(number, "line", f"is not valid JSON ({error.msg})"))
            continue
        if not isinstance(record, dict):
            problems.append(RowProblem(number, "line", "must be a JSON object"))
            continue
        yield number, record


@catalog.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=FORMATS, default=None, help="Default: by suffix.")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows, report the others.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=1000,
    show_default=True,
    help="Rows per transaction.",
)
@json_option
@acting
def catalog_import(
    file: Path,
    file_format: str | None,
    dry_run: bool,
    skip_invalid: bool,
    batch_size: int,
    as_json: bool,
) -> None:
    """Import products from CSV or JSON Lines, upserting by sku.

    Columns: sku, name, description, price (minor units such as 1250, or a decimal string
    such as 12.50), currency (the shop's; may be left out), inventory_count, category.
    The whole file is checked first and every bad row reported with its line and field;
    nothing is written unless every row is valid (or --skip-invalid). Rows are written
    in batches, each in one transaction; importing the same file again changes nothing.
    """
    from application.catalog_import import check_rows

    started = time.monotonic()
    settings = load_settings()
    kind = _format_of(file, file_format)
    problems: list[Any] = []
    with file.open(encoding="utf-8-sig", newline="") as text:
        try:
            records = list(
                guarded(lambda: list(_csv_records(text)))
                if kind == "csv"
                else _jsonl_records(text, problems)
            )
        except (UnicodeDecodeError, csv.Error) as error:
            fail(f"{file}: cannot read it as {kind}: {error}", EXIT_USAGE)
    with progress_bar("checking", len(records)) as advance:
        rows, bad = check_rows(records, settings.shop.currency, advance)
    problems = sorted([*problems, *bad], key=lambda p: p.line)
    for problem in problems:
        click.echo(f"{file}:{problem}", err=True)
    if problems and not skip_invalid:
        lines = len({p.line for p in problems})
        fail(f"{lines} invalid row(s) in {file}; nothing was imported", EXIT_USAGE)

    async def upsert(container: Container, actor: Principal) -> ImportResult:
        with progress_bar("dry run" if dry_run else "importing", len(rows)) as advance:
            return await container.catalog_import().apply(
                actor, rows, dry_run=dry_run, batch_size=batch_size, progress=advance
            )

    result = run(upsert, settings=settings)
    summary = {
        "file": str(file),
        "dry_run": dry_run,
        "rows": len(rows),
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "skipped_invalid": len({p.line for p in problems}),
        "seconds": round(time.monotonic() - started, 2),
    }
    if as_json:
        changes = [
            {"line": c.line, "sku": c.sku, "action": c.action, "fields": list(c.fields)}
            for c in result.changes
        ]
        print_json(summary | ({"changes": changes} if dry_run else {}))
        return
    if dry_run:
        for change in result.changes[:DRY_RUN_SHOWN]:
            detail = f" ({', '.join(change.fields)})" if change.fields else ""
            click.echo(f"would {change.action} {change.sku}{detail}  [line {change.line}]")
        if len(result.changes) > DRY_RUN_SHOWN:
            click.echo(f"... and {len(result.changes) - DRY_RUN_SHOWN} more")
    verb = "would be " if dry_run else ""
    click.echo(
        f"{len(rows)} row(s): {result.created} {verb}created, {result.updated} {verb}updated, "
        f"{result.unchanged} unchanged"
        + (f", {summary['skipped_invalid']} invalid skipped" if problems else "")
    )


EXPORT_PAGE = 100


def export_record(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku or "",
        "name": product.name,
        "description": product.description,
        "price": product.price.amount,
        "currency": product.price.currency,
        "inventory_count": product.inventory_count,
        "category": product.category,
    }


@catalog.command("export")
@click.option("--format", "file_format", type=FORMATS, default="csv", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Default: standard output.",
)
def catalog_export(file_format: str, output: Path | None) -> None:
    """Write every product in the shop (oldest first), in the columns import reads (price
    in minor units), so that the file imports back unchanged."""
    from application.catalog import ProductQuery
    from application.catalog_import import COLUMNS
    from application.ports.persistence import PageRequest, ProductSort

    async def export(container: Container, actor: Principal) -> int:
        shop = container.catalog()
        written = 0
        with contextlib.ExitStack() as stack:
            out: IO[str] = (
                stack.enter_context(output.open("w", encoding="utf-8", newline=""))
                if output is not None
                else sys.stdout
            )
            writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
            if file_format == "csv":
                writer.writeheader()
            cursor: str | None = None
            advance = stack.enter_context(progress_bar("exporting", None))
            while True:
                page = await shop.list_products(
                    ProductQuery(
                        sort=ProductSort.NEWEST_LAST, page=PageRequest(EXPORT_PAGE, cursor)
                    )
                )
                for product in page.items:
                    record = export_record(product)
                    if file_format == "csv":
                        writer.writerow(record)
                    else:
                        out.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += len(page.items)
                advance(len(page.items))
                cursor = page.next_cursor
                if cursor is None:
                    return written

    written = run(export)
    if output is not None:
        click.echo(f"{written} product(s) written to {output}", err=True)


@click.group()
def inventory() -> None:
    """Stock on hand."""


@inventory.command("adjust")
@click.argument("sku")
@click.option("--delta", type=int, required=True, help="Units to add (negative: remove).")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@json_option
@acting
def inventory_adjust(sku: str, delta: int, reason: str, as_json: bool) -> None:
    """Restock or correct a product's stock by its sku; stock never goes below zero."""

    async def adjust(container: Container, actor: Principal) -> Product:
        shop = container.catalog()
        product = await shop.get_product_by_sku(sku)
        return await shop.adjust_inventory(actor, product.id, delta, reason=reason)

    product = run(adjust)
    if as_json:
        print_json(export_record(product) | {"id": product.id})
    else:
        click.echo(f"{sku}: {product.inventory_count} in stock ({delta:+d}, {reason})")
