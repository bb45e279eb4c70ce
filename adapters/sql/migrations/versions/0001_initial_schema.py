"""Initial schema: users, API keys, catalog, carts, orders, payments, outbox, dedup records.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

A migration is a frozen snapshot: it spells its columns out instead of importing the
tables module, which keeps changing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

FIRST_ORDER_NUMBER = 1001


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _text(length: int) -> sa.types.TypeEngine[str]:
    """Compared by code point on every dialect (the "C" collation on PostgreSQL)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _id(name: str, *args: object, **kwargs: object) -> sa.Column[str]:
    return sa.Column(name, _text(64), *args, nullable=False, **kwargs)  # type: ignore[arg-type]


def _at(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _money(prefix: str) -> list[sa.Column[Any]]:
    return [
        sa.Column(f"{prefix}_amount", sa.BigInteger(), nullable=False),
        sa.Column(f"{prefix}_currency", sa.CHAR(3), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "users",
        _id("id"),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_index("ix_users_created_at_id", "users", ["created_at", "id"])
    op.create_index("ix_users_role", "users", ["role"])

    op.create_table(
        "api_keys",
        _id("id"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("prefix", sa.String(64), nullable=False),
        _id("created_by"),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_created_at_id", "api_keys", ["created_at", "id"])

    op.create_table(
        "products",
        _id("id"),
        sa.Column("name", _text(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("search_name", sa.Text(), nullable=False),
        sa.Column("search_description", sa.Text(), nullable=False),
        *_money("price"),
        sa.Column("inventory_count", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("is_archived", sa.Boolean(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("inventory_count >= 0", name="ck_products_inventory_not_negative"),
        sa.CheckConstraint("price_amount >= 0", name="ck_products_price_not_negative"),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
    )
    op.create_index("ix_products_created_at_id", "products", ["created_at", "id"])
    op.create_index("ix_products_price_amount_id", "products", ["price_amount", "id"])
    op.create_index("ix_products_name_id", "products", ["name", "id"])
    op.create_index("ix_products_category", "products", ["category"])

    op.create_table(
        "product_images",
        _id("id"),
        _id("product_id"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name="fk_product_images_product_id_products",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_product_images"),
    )
    op.create_index("ix_product_images_product_id", "product_images", ["product_id"])

    op.create_table(
        "carts",
        _id("user_id"),
        _at("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_carts_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_carts"),
    )
    op.create_table(
        "cart_lines",
        _id("user_id"),
        _id("product_id"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_cart_lines_quantity_positive"),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name="fk_cart_lines_product_id_products"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["carts.user_id"], name="fk_cart_lines_user_id_carts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "product_id", name="pk_cart_lines"),
    )

    op.create_table(
        "orders",
        _id("id"),
        sa.Column("number", sa.BigInteger(), nullable=False),
        _id("user_id"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("ship_name", sa.String(200), nullable=False),
        sa.Column("ship_line1", sa.String(200), nullable=False),
        sa.Column("ship_line2", sa.String(200), nullable=True),
        sa.Column("ship_city", sa.String(100), nullable=False),
        sa.Column("ship_postal_code", sa.String(20), nullable=False),
        sa.Column("ship_country", sa.CHAR(2), nullable=False),
        sa.Column("tracking_number", sa.String(100), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_orders_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("number", name="uq_orders_number"),
    )
    op.create_index("ix_orders_user_id_created_at_id", "orders", ["user_id", "created_at", "id"])
    op.create_index("ix_orders_status_created_at", "orders", ["status", "created_at"])
    op.create_index("ix_orders_created_at_id", "orders", ["created_at", "id"])

    op.create_table(
        "order_lines",
        _id("order_id"),
        sa.Column("position", sa.Integer(), nullable=False),
        _id("product_id"),
        sa.Column("name", sa.String(200), nullable=False),
        *_money("unit_price"),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_order_lines_quantity_positive"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_order_lines_order_id_orders", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name="fk_order_lines_product_id_products"
        ),
        sa.PrimaryKeyConstraint("order_id", "position", name="pk_order_lines"),
    )

    op.create_table(
        "payments",
        _id("id"),
        _id("order_id"),
        _id("user_id"),
        sa.Column("provider", sa.String(50), nullable=False),
        *_money("amount"),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("intent_id", sa.String(255), nullable=True),
        sa.Column("client_secret", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_payments_order_id_orders"),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        sa.UniqueConstraint("intent_id", name="uq_payments_intent_id"),
        sa.UniqueConstraint("order_id", name="uq_payments_order_id"),
    )
    op.create_index("ix_payments_status_created_at", "payments", ["status", "created_at"])

    op.create_table(
        "refunds",
        _id("id"),
        _id("payment_id"),
        sa.Column("position", sa.Integer(), nullable=False),
        *_money("amount"),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("provider_refund_id", sa.String(255), nullable=True),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name="fk_refunds_payment_id_payments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_refunds"),
    )
    op.create_index("ix_refunds_payment_id", "refunds", ["payment_id"])

    op.create_table(
        "outbox",
        _id("id"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        _at("created_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["created_at", "id"],
        postgresql_where=sa.text("sent_at IS NULL"),
        sqlite_where=sa.text("sent_at IS NULL"),
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])

    op.create_table(
        "idempotency_records",
        _id("user_id"),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_fingerprint", sa.String(128), nullable=False),
        _id("order_id"),
        _at("created_at"),
        sa.PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_records"),
    )
    op.create_index("ix_idempotency_records_created_at", "idempotency_records", ["created_at"])

    op.create_table(
        "processed_events",
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        _at("processed_at"),
        sa.PrimaryKeyConstraint("provider", "event_id", name="pk_processed_events"),
    )
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])

    op.create_table(
        "refresh_token_families",
        _id("family_id"),
        _id("user_id"),
        sa.Column("current_hash", sa.String(128), nullable=False),
        _at("expires_at"),
        _at("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("family_id", name="pk_refresh_token_families"),
    )
    op.create_index("ix_refresh_token_families_user_id", "refresh_token_families", ["user_id"])

    if _is_postgres():
        op.execute(
            sa.schema.CreateSequence(sa.Sequence("order_number_seq", start=FIRST_ORDER_NUMBER))
        )
    else:
        counter = op.create_table(
            "order_number_counter",
            sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("last_number", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("id", name="pk_order_number_counter"),
        )
        op.bulk_insert(counter, [{"id": 1, "last_number": FIRST_ORDER_NUMBER - 1}])


def downgrade() -> None:
    if _is_postgres():
        op.execute(sa.schema.DropSequence(sa.Sequence("order_number_seq")))
    else:
        op.drop_table("order_number_counter")
    for table in (
        "refresh_token_families",
        "processed_events",
        "idempotency_records",
        "outbox",
        "refunds",
        "payments",
        "order_lines",
        "orders",
        "cart_lines",
        "carts",
        "product_images",
        "products",
        "api_keys",
        "users",
    ):
        op.drop_table(table)  # its indexes go with it
