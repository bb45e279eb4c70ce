"""The outbox records when a message was handed to the task queue and when its handler
finished, apart: a message counts as done only once handled, and one enqueued but not
handled in time is enqueued again.

`sent_at` becomes `enqueued_at`; messages sent before this revision count as handled then
(their jobs ran, or were lost before the ledger could tell).

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
    op.execute("ALTER TABLE outbox RENAME COLUMN sent_at TO enqueued_at")
    op.add_column("outbox", sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE outbox SET handled_at = enqueued_at WHERE enqueued_at IS NOT NULL")
    unhandled = sa.text("handled_at IS NULL")
    op.create_index(
        "ix_outbox_unhandled",
        "outbox",
        ["created_at", "id"],
        postgresql_where=unhandled,
        sqlite_where=unhandled,
    )
    op.create_index("ix_outbox_handled_at", "outbox", ["handled_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_handled_at", table_name="outbox")
    op.drop_index("ix_outbox_unhandled", table_name="outbox")
    op.drop_column("outbox", "handled_at")
    op.execute("ALTER TABLE outbox RENAME COLUMN enqueued_at TO sent_at")
    unsent = sa.text("sent_at IS NULL")
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["created_at", "id"],
        postgresql_where=unsent,
        sqlite_where=unsent,
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])
