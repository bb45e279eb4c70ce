"""An index for finding abandoned uploads: the incomplete ones, by age.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    incomplete = sa.text("completed_at IS NULL")
    op.create_index(
        "ix_uploads_created_at_incomplete",
        "uploads",
        ["created_at"],
        postgresql_where=incomplete,
        sqlite_where=incomplete,
    )


def downgrade() -> None:
    op.drop_index("ix_uploads_created_at_incomplete", table_name="uploads")
