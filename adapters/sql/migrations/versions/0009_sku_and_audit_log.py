"""Products get an optional, unique sku; the audit trail of administrative actions.

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def _id(name: str, *, nullable: bool = False) -> sa.Column[str]:
    """Compared by code point on every dialect (the "C" collation on PostgreSQL)."""
    text = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")
    return sa.Column(name, text, nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("products") as products:
        products.add_column(_id("sku", nullable=True))
    op.create_index("ix_products_sku", "products", ["sku"], unique=True)

    op.create_table(
        "audit_log",
        _id("id"),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _id("actor_user_id", nullable=True),
        _id("actor_api_key_id", nullable=True),
        sa.Column("actor_operator", sa.String(200), nullable=True),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target_type", sa.String(50), nullable=False),
        _id("target_id"),
        sa.Column("summary", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("request_id", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at_id", "audit_log", ["at", "id"])
    op.create_index(
        "ix_audit_log_target_type_target_id_at", "audit_log", ["target_type", "target_id", "at"]
    )
    op.create_index("ix_audit_log_actor_user_id_at", "audit_log", ["actor_user_id", "at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_index("ix_products_sku", table_name="products")
    with op.batch_alter_table("products") as products:
        products.drop_column("sku")
