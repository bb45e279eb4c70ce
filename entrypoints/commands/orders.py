"""`hexmart orders ...`, `hexmart payments reconcile`, `hexmart housekeeping`,
`hexmart demo seed`."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from entrypoints.commands.runtime import (
    EXIT_USAGE,
    acting,
    confirm,
    fail,
    json_option,
    print_json,
    print_record,
    print_table,
    run,
    show,
    yes_option,
)

if TYPE_CHECKING:
    from application.principal import Principal
    from domain.orders import Order
    from domain.payments import Payment
    from entrypoints.container import Container

STATUSES = click.Choice(["pending", "paid", "shipped", "delivered", "cancelled"])
ORDER_COLUMNS = ("number", "id", "status", "total", "paid", "refunded", "lines", "created_at")
PAGE = 100


def _date(value: str | None, option: str) -> datetime | None:
    """An ISO date or date-time; a date (or a time without a zone) is taken as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date (YYYY-MM-DD) or ISO date-time", EXIT_USAGE)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _money(amount: Any) -> str:
    from domain.currencies import minor_digits

    digits = minor_digits(amount.currency)
    sign = "-" if amount.amount < 0 else ""
    whole, fraction = divmod(abs(amount.amount), 10**digits)
    shown = f"{whole}.{fraction:0{digits}d}" if digits else str(whole)
    return f"{sign}{shown} {amount.currency}"


def order_record(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status.value,
        "user_id": order.user_id,
        "total": _money(order.total_amount),
        "paid": _money(order.paid_amount),
        "refunded": _money(order.refunded_amount),
        "lines": sum(line.quantity.value for line in order.lines),
        "tracking_number": order.tracking_number,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


async def _orders(
    container: Container, actor: Principal, status: str | None, since: datetime | None
) -> AsyncIterator[Order]:
    """Orders newest first, down to `since`."""
    from application.ports.persistence import OrderQuery, PageRequest
    from domain.orders import OrderStatus

    cursor: str | None = None
    wanted = OrderStatus(status) if status else None
    while True:
        page = await container.orders().list_orders(
            actor, OrderQuery(status=wanted, page=PageRequest(PAGE, cursor))
        )
        for order in page.items:
            if since is not None and order.created_at < since:
                return
            yield order
        cursor = page.next_cursor
        if cursor is None:
            return


@click.group()
def orders() -> None:
    """Orders: list, show, cancel, refund, export for accounting."""


@orders.command("list")
@click.option("--status", type=STATUSES, default=None)
@click.option("--since", default=None, help="Placed on or after this date (UTC).")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many.")
@json_option
@acting
def orders_list(status: str | None, since: str | None, limit: int | None, as_json: bool) -> None:
    """Orders, newest first."""
    since_at = _date(since, "--since")

    async def listing(container: Container, actor: Principal) -> list[Order]:
        found: list[Order] = []
        async for order in _orders(container, actor, status, since_at):
            found.append(order)
            if limit is not None and len(found) >= limit:
                break
        return found

    records = [order_record(o) for o in run(listing)]
    show(records, as_json, lambda: print_table(records, ORDER_COLUMNS))


def payment_record(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "provider": payment.provider,
        "status": payment.status.value,
        "amount": _money(payment.amount),
        "intent_id": payment.intent_id,
        "created_at": payment.created_at,
        "refunds": [
            {
                "id": refund.id,
                "amount": _money(refund.amount),
                "reason": refund.reason,
                "created_at": refund.created_at,
            }
            for refund in payment.refunds
        ],
    }


@orders.command("show")
@click.argument("reference", metavar="NUMBER|ID")
@json_option
@acting
def orders_show(reference: str, as_json: bool) -> None:
    """One order: its lines, payment, refunds and history."""

    async def get(container: Container, actor: Principal) -> dict[str, Any]:
        order = await container.orders().find_order(actor, reference)
        payments = await container.orders().list_payments(actor, order.id)
        history = await container.orders().history(actor, order.id)
        return order_record(order) | {
            "shipping_address": order.shipping_address,
            "order_lines": [
                {
                    "product_id": line.product_id,
                    "name": line.name,
                    "unit_price": _money(line.unit_price),
                    "quantity": line.quantity.value,
                }
                for line in order.lines
            ],
            "payment": payment_record(payments[0]) if payments else None,
            "history": [
                {
                    "at": entry.at,
                    "action": entry.action,
                    "actor": entry.actor_name,
                    "summary": entry.summary,
                }
                for entry in history
            ],
        }

    record = run(get)
    if as_json:
        address = record["shipping_address"]
        record["shipping_address"] = {
            k: getattr(address, k)
            for k in ("name", "line1", "line2", "city", "postal_code", "country")
            if hasattr(address, k)
        }
        print_json(record)
        return
    lines = record.pop("order_lines")
    payment = record.pop("payment")
    history = record.pop("history")
    address = record.pop("shipping_address")
    print_record(record)
    click.echo("")
    print_table(lines, ("name", "quantity", "unit_price", "product_id"), title="lines")
    if payment is not None:
        refunds = payment.pop("refunds")
        click.echo("")
        click.echo("payment:")
        print_record(payment)
        if refunds:
            print_table(refunds, ("created_at", "amount", "reason", "id"), title="refunds")
    if history:
        click.echo("")
        print_table(history, ("at", "action", "actor"), title="history")
    del address


@orders.command("cancel")
@click.argument("reference", metavar="NUMBER|ID")
@yes_option()
@acting
def orders_cancel(reference: str, yes: bool) -> None:
    """Cancel a pending or paid order: its stock comes back and a payment is refunded."""
    confirm(f"Cancel order {reference}? A paid order is refunded in full.", yes)

    async def cancel(container: Container, actor: Principal) -> Order:
        order = await container.orders().find_order(actor, reference)
        return await container.orders().cancel_order(actor, order.id)

    order = run(cancel)
    click.echo(
        f"order {order.number} is {order.status.value}; refunded {_money(order.refunded_amount)}"
    )


@orders.command("refund")
@click.argument("reference", metavar="NUMBER|ID")
@click.option(
    "--amount",
    default=None,
    help="Minor units (1250) or a decimal (12.50) in the order's currency; default: all "
    "that is left.",
)
@click.option("--reason", default=None, help="Shown to accounting and kept in the audit trail.")
@yes_option()
@acting
def orders_refund(reference: str, amount: str | None, reason: str | None, yes: bool) -> None:
    """Refund a paid order, in full or in part."""
    from application.catalog_import import parse_price

    confirm(f"Refund {amount or 'everything left'} of order {reference}?", yes)

    async def refund(container: Container, actor: Principal) -> Order:
        order = await container.orders().find_order(actor, reference)
        money = None
        if amount is not None:
            money = parse_price(amount, order.currency)
            if not money.is_positive:
                from domain.errors import InvalidValue

                raise InvalidValue("amount", "must be positive")
        return await container.refunds().refund_order(actor, order.id, money, reason)

    order = run(refund)
    click.echo(
        f"order {order.number}: refunded {_money(order.refunded_amount)} of "
        f"{_money(order.paid_amount)} paid"
    )


EXPORT_COLUMNS = (
    "order_number",
    "order_id",
    "placed_at",
    "status",
    "currency",
    "product_id",
    "product_name",
    "unit_price",
    "quantity",
    "line_total",
    "order_total",
    "order_paid",
    "order_refunded",
)


@orders.command("export")
@click.option("--since", required=True, help="Placed on or after this date (UTC).")
@click.option("--until", required=True, help="Placed before this date (UTC).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Default: standard output.",
)
@acting
def orders_export(since: str, until: str, output: Path | None) -> None:
    """CSV for accounting: one row per order line, with the order's totals and refunds
    (amounts in minor units), oldest order first."""
    since_at = _date(since, "--since")
    until_at = _date(until, "--until")
    assert since_at is not None
    assert until_at is not None
    if until_at <= since_at:
        fail("--until must be after --since", EXIT_USAGE)

    async def export(container: Container, actor: Principal) -> int:
        found = [
            order
            async for order in _orders(container, actor, None, since_at)
            if order.created_at < until_at
        ]
        found.reverse()
        out: IO[str] = (
            output.open("w", encoding="utf-8", newline="") if output is not None else sys.stdout
        )
        try:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(EXPORT_COLUMNS)
            for order in found:
                for line in order.lines:
                    writer.writerow(
                        (
                            order.number,
                            order.id,
                            order.created_at.isoformat(),
                            order.status.value,
                            order.currency,
                            line.product_id,
                            line.name,
                            line.unit_price.amount,
                            line.quantity.value,
                            line.unit_price.amount * line.quantity.value,
                            order.total_amount.amount,
                            order.paid_amount.amount,
                            order.refunded_amount.amount,
                        )
                    )
        finally:
            if output is not None:
                out.close()
        return len(found)

    count = run(export)
    if output is not None:
        click.echo(f"{count} order(s) written to {output}", err=True)


@click.group()
def payments() -> None:
    """Payments at the provider."""


@payments.command("reconcile")
@click.option("--order", "reference", default=None, metavar="NUMBER|ID", help="Only this order.")
@json_option
@acting
def payments_reconcile(reference: str | None, as_json: bool) -> None:
    """Ask the payment provider now about pending payments (or one order's) and apply
    what it says; prints what changed."""

    async def reconcile(container: Container, actor: Principal) -> list[dict[str, Any]]:
        from datetime import timedelta

        shop = container.orders()
        if reference is not None:
            targets = [await shop.find_order(actor, reference)]
        else:
            targets = [o async for o in _orders(container, actor, "pending", None)]
        before = {o.id: (o.status.value, _money(o.paid_amount)) for o in targets}
        if reference is not None:
            await container.payment_events().reconcile_order(actor, targets[0].id)
        else:
            await container.payment_events().reconcile_pending(timedelta(0), limit=1000)
        changes = []
        for order_id, (status, paid) in before.items():
            after = await shop.get_order(actor, order_id)
            if (after.status.value, _money(after.paid_amount)) != (status, paid):
                changes.append(
                    {
                        "order": after.number,
                        "id": order_id,
                        "status": f"{status} -> {after.status.value}",
                        "paid": f"{paid} -> {_money(after.paid_amount)}",
                    }
                )
        return changes

    changes = run(reconcile)
    if as_json:
        print_json(changes)
    elif changes:
        print_table(changes, ("order", "status", "paid", "id"))
    else:
        click.echo("nothing changed")


@click.command()
@json_option
def housekeeping(as_json: bool) -> None:
    """Run the schedule's housekeeping jobs once, now: reconcile pending payments, expire
    unpaid orders, purge old records and abandoned uploads (relaying the outbox and
    delivering local payments run continuously in the worker or the app)."""

    async def jobs(container: Container, actor: Principal) -> dict[str, int]:
        from entrypoints.background import (
            expire_unpaid_orders,
            housekeeping,
            reconcile_pending_payments,
        )

        report = {
            "payments_reconciled": await reconcile_pending_payments(container),
            "orders_expired": await expire_unpaid_orders(container),
        }
        report.update(await housekeeping(container))
        return report

    report = run(jobs)
    show(report, as_json, lambda: print_record(report))


@click.group()
def demo() -> None:
    """The demo shop."""


@demo.command("seed")
def demo_seed() -> None:
    """Create the demo administrator and catalog (what `serve --demo` does), printing the
    administrator's credentials."""

    async def seed(container: Container, actor: Principal) -> int:
        from entrypoints.demo import demo_admin, seed_demo_shop

        return await seed_demo_shop(container, demo_admin(container.settings().data_dir))

    created = run(seed)
    from entrypoints.commands.runtime import load_settings
    from entrypoints.demo import demo_admin

    admin = demo_admin(load_settings().data_dir)
    click.echo(f"demo shop: {created} product(s) created")
    click.echo(f"  demo admin email:    {admin.email}")
    click.echo(f"  demo admin password: {admin.password}")


@click.group()
def audit() -> None:
    """The audit trail of administrative actions and order status changes."""


@audit.command("list")
@click.option("--actor", default=None, help="A user id, an API key id or an operator (cli:name).")
@click.option("--target", default=None, help="The id of what was acted on.")
@click.option("--since", default=None, help="At or after this date (UTC).")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@json_option
@acting
def audit_list(
    actor: str | None, target: str | None, since: str | None, limit: int, as_json: bool
) -> None:
    """Entries newest first."""
    since_at = _date(since, "--since")

    async def listing(container: Container, principal: Principal) -> list[dict[str, Any]]:
        from application.ports.persistence import AuditQuery, PageRequest

        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(found) < limit:
            page = await container.audit().list_entries(
                principal,
                AuditQuery(
                    actor=actor,
                    target=target,
                    since=since_at,
                    page=PageRequest(min(PAGE, limit - len(found)), cursor),
                ),
            )
            found.extend(
                {
                    "at": e.at,
                    "actor": e.actor_name,
                    "action": e.action,
                    "target": f"{e.target_type}:{e.target_id}",
                    "summary": e.summary,
                    "request_id": e.request_id,
                    "id": e.id,
                }
                for e in page.items
            )
            cursor = page.next_cursor
            if cursor is None:
                break
        return found

    entries = run(listing)
    if as_json:
        print_json(entries)
        return
    rows = [e | {"summary": json.dumps(e["summary"], ensure_ascii=False)} for e in entries]
    print_table(rows, ("at", "actor", "action", "target", "summary"))
