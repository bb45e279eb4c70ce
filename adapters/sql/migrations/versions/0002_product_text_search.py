"""Trigram indexes for the catalog text filter (PostgreSQL with pg_trgm only).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

The filter is `search_name LIKE '%needle%' OR search_description LIKE '%needle%'`; a GIN
trigram index answers it without a full scan. SQLite has no such index and scans, which is
fine at embedded-default sizes. Where pg_trgm cannot be installed (no privilege, not
available) the migration logs a warning and leaves the filter unindexed.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

log = logging.getLogger(__name__)

INDEXES = {
    "ix_products_search_name_trgm": "search_name",
    "ix_products_search_description_trgm": "search_description",
}


def _pg_trgm_installed() -> bool:
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except DBAPIError as error:
        log.warning("pg_trgm unavailable (%s); catalog text search stays unindexed", error.orig)
        return False
    return True


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql" or not _pg_trgm_installed():
        return
    for name, column in INDEXES.items():
        op.create_index(
            name,
            "products",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(sa.text(f'DROP INDEX IF EXISTS "{name}"'))
    # pg_trgm itself stays: other objects may have come to depend on it.
