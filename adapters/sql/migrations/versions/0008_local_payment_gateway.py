"""The local payment gateway's intents and refunds, in the shop's database (PostgreSQL
only: on SQLite the gateway keeps them in a file of its own).

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _on_postgresql():
        return
    op.create_table(
        "local_payment_intents",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(255), nullable=True),
        sa.Column("amount_amount", sa.BigInteger(), nullable=False),
        sa.Column("amount_currency", sa.CHAR(3), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deliver_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_local_payment_intents"),
        sa.UniqueConstraint("idempotency_key", name="uq_local_payment_intents_idempotency_key"),
    )
    op.create_index("ix_local_payment_intents_deliver_at", "local_payment_intents", ["deliver_at"])
    op.create_index("ix_local_payment_intents_updated_at", "local_payment_intents", ["updated_at"])
    op.create_table(
        "local_payment_refunds",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("intent_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("amount_amount", sa.BigInteger(), nullable=False),
        sa.Column("amount_currency", sa.CHAR(3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["intent_id"],
            ["local_payment_intents.id"],
            name="fk_local_payment_refunds_intent_id_local_payment_intents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_local_payment_refunds"),
        sa.UniqueConstraint("idempotency_key", name="uq_local_payment_refunds_idempotency_key"),
        sa.UniqueConstraint(
            "intent_id", "number", name="uq_local_payment_refunds_intent_id_number"
        ),
    )


def downgrade() -> None:
    if not _on_postgresql():
        return
    op.drop_table("local_payment_refunds")
    op.drop_table("local_payment_intents")  # its indexes go with it
