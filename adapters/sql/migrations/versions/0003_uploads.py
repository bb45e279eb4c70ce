"""Uploads: files users announce, then send straight to file storage.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _id(name: str) -> sa.Column[str]:
    """Compared by code point on every dialect (the "C" collation on PostgreSQL)."""
    text = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")
    return sa.Column(name, text, nullable=False)


def upgrade() -> None:
    op.create_table(
        "uploads",
        _id("id"),
        _id("owner_id"),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("size > 0", name="ck_uploads_size_positive"),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_uploads_owner_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_uploads"),
    )
    op.create_index("ix_uploads_owner_id_created_at", "uploads", ["owner_id", "created_at"])


def downgrade() -> None:
    op.drop_table("uploads")  # its index goes with it
