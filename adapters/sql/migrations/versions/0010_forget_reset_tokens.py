"""Forget the password-reset tokens that earlier versions wrote into the outbox.

Reset requests used to carry their one-time token in the outbox payload; they now name
the user only and the token is made when the email is sent. This drops the `token` key
from every recorded request, sent or not (an unsent one gets a fresh token when it is
sent). There is nothing to restore on the way down.

Revision ID: 0010
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        statement = "UPDATE outbox SET payload = payload - 'token' WHERE name = :name"
    else:
        statement = "UPDATE outbox SET payload = json_remove(payload, '$.token') WHERE name = :name"
    op.execute(sa.text(statement).bindparams(name="password_reset_requested"))


def downgrade() -> None:
    pass
