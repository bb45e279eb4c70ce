"""Per-user epochs: the token epoch (a password change, deactivation or role change raises
it, and every token issued under an older one is refused) and the role epoch (a
deactivation or role change raises it, and every API key the user created under an older
one is refused).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_epoch", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("role_epoch", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("creator_role_epoch", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("creator_role_epoch")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("role_epoch")
        batch.drop_column("token_epoch")
