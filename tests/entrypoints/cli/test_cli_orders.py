"""`hexmart orders ...`, `payments reconcile`, `audit list`, `housekeeping`, `demo seed`;
refunds on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

from adapters.fakes.payment_gateway import FakePaymentGateway
from application.orders import PlacedOrder
from application.principal import Principal
from domain.users import Role
from entrypoints.container import Container
from tests.application.shopping import an_address
from tests.entrypoints.cli.conftest import Hexmart, Scene, one_line_error, paid_order


def test_orders_list_and_show(hexmart: Hexmart, shop: Scene) -> None:
    order = paid_order(shop)

    listed = json.loads(hexmart("orders", "list", "--json").stdout)
    assert [(o["id"], o["status"], o["total"]) for o in listed] == [(order.id, "paid", "25.00 USD")]
    assert json.loads(hexmart("orders", "list", "--status", "pending", "--json").stdout) == []
    assert json.loads(hexmart("orders", "list", "--since", "2999-01-01", "--json").stdout) == []
    bad_date = hexmart("orders", "list", "--since", "last week")
    assert bad_date.exit_code == 2
    assert "--since" in one_line_error(bad_date)

    for reference in (order.id, str(order.number)):
        shown = json.loads(hexmart("orders", "show", reference, "--json").stdout)
        assert shown["id"] == order.id
        assert shown["payment"]["status"] == "completed"
        assert [h["action"] for h in shown["history"]] == ["order.placed", "order.paid"]
    assert "history" in hexmart("orders", "show", order.id).stdout
    for unknown in ("no-such-order", "999999"):
        missing = hexmart("orders", "show", unknown)
        assert missing.exit_code == 1
        assert "not found" in one_line_error(missing)


def test_refunds_in_part_then_the_rest_and_never_more(hexmart: Hexmart, shop: Scene) -> None:
    order = paid_order(shop)

    too_much = hexmart("orders", "refund", order.id, "--amount", "25.01", "--yes")
    wrong = hexmart("orders", "refund", order.id, "--amount", "1.234", "--yes")
    zero = hexmart("orders", "refund", order.id, "--amount", "0", "--yes")
    unknown = hexmart("orders", "refund", "no-such-order", "--yes")
    declined = hexmart("orders", "refund", order.id, "--amount", "1", input="n\n")
    assert (too_much.exit_code, wrong.exit_code, zero.exit_code, unknown.exit_code) == (1, 2, 2, 1)
    assert declined.exit_code == 1
    for result in (too_much, wrong, zero, unknown):
        one_line_error(result)
    assert refunded(shop, order.id) == 0

    part = hexmart(
        "orders", "refund", str(order.number), "--amount", "10.00", "--reason", "chipped", "--yes"
    )
    assert part.exit_code == 0, part.stderr
    assert "refunded 10.00 USD of 25.00 USD" in part.stdout
    rest = hexmart("orders", "refund", order.id, "--yes")
    assert rest.exit_code == 0, rest.stderr
    assert refunded(shop, order.id) == 2500
    again = hexmart("orders", "refund", order.id, "--amount", "1", "--yes")
    assert again.exit_code == 1

    entries = json.loads(hexmart("audit", "list", "--target", order.id, "--json").stdout)
    refunds = [e for e in entries if e["action"] == "order.refunded"]
    assert [e["summary"]["amount"] for e in refunds] == ["1500 USD", "1000 USD"]
    assert all(e["actor"].startswith("cli:") for e in refunds)
    assert refunds[1]["summary"]["reason"] == "chipped"


def refunded(shop: Scene, order_id: str) -> int:
    async def look(container: Container) -> int:
        order = await container.orders().get_order(Principal.system(), order_id)
        return order.refunded_amount.amount

    amount: int = shop(look)
    return amount


def test_cancel_refunds_and_releases_stock(hexmart: Hexmart, shop: Scene) -> None:
    order = paid_order(shop)

    cancelled = hexmart("orders", "cancel", order.id, "--yes")

    assert cancelled.exit_code == 0, cancelled.stderr
    assert "cancelled" in cancelled.stdout
    again = hexmart("orders", "cancel", order.id, "--yes")
    assert again.exit_code == 1
    assert "cancelled" in one_line_error(again)


def test_orders_export_has_one_row_per_line_for_accounting(hexmart: Hexmart, shop: Scene) -> None:
    order = paid_order(shop, quantity=3, price=999)

    result = hexmart("orders", "export", "--since", "2000-01-01", "--until", "2999-01-01")

    assert result.exit_code == 0, result.stderr
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["order_id"] == order.id
    assert (row["unit_price"], row["quantity"], row["line_total"]) == ("999", "3", "2997")
    assert (row["order_paid"], row["order_refunded"]) == ("2997", "0")
    backwards = hexmart("orders", "export", "--since", "2001-01-01", "--until", "2000-01-01")
    assert backwards.exit_code == 2


def test_payments_reconcile_prints_what_changed(
    hexmart: Hexmart, shop: Scene, gateway: FakePaymentGateway
) -> None:
    order = paid_order(shop)
    assert "nothing changed" in hexmart("payments", "reconcile").stdout

    async def pending_order(container: Container) -> PlacedOrder:
        user = Principal.user(order.user_id, Role.CUSTOMER)
        await container.carts().set_item(user, order.lines[0].product_id, 1)
        return await container.orders().place_order(
            user, idempotency_key="lost-webhook", shipping_address=an_address()
        )

    placed: PlacedOrder = shop(pending_order)
    # The payment succeeds at the provider, and its webhook is lost.
    assert placed.payment.intent_id is not None
    gateway.succeed(placed.payment.intent_id)

    result = hexmart("payments", "reconcile", "--order", placed.order.id, "--json")

    assert result.exit_code == 0, result.stderr
    [change] = json.loads(result.stdout)
    assert change["status"] == "pending -> paid"
    assert hexmart("payments", "reconcile", "--order", "nope").exit_code == 1


def test_housekeeping_and_demo_seed(hexmart: Hexmart) -> None:
    report = json.loads(hexmart("housekeeping", "--json").stdout)
    assert report["orders_expired"] == 0
    assert "abandoned_uploads" in report

    seeded = hexmart("demo", "seed")
    assert seeded.exit_code == 0, seeded.stderr
    assert "demo admin email:    admin@demo.hexmart.test" in seeded.stdout
    assert "0 product(s)" in hexmart("demo", "seed").stdout
    users = json.loads(hexmart("users", "list", "--role", "admin", "--json").stdout)
    assert [u["email"] for u in users] == ["admin@demo.hexmart.test"]


def test_audit_list_names_the_cli_operator_and_the_user_acted_as(hexmart: Hexmart) -> None:
    hexmart("users", "create", "--email", "root@example.com", "--role", "admin")
    hexmart(
        "users",
        "create",
        "--email",
        "c@example.com",
        "--role",
        "customer",
        "--as",
        "root@example.com",
    )

    entries = json.loads(hexmart("audit", "list", "--json").stdout)

    assert [e["action"] for e in entries] == ["user.create", "user.create"]
    assert entries[0]["actor"].startswith("cli:")
    assert " as user:" in entries[0]["actor"]
    assert " as " not in entries[1]["actor"]
    assert "password" not in json.dumps(entries)
    table = hexmart("audit", "list")
    assert "user.create" in table.stdout
