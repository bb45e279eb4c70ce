"""Stored email addresses in their normal form: Unicode NFKC, lower-cased, trimmed.

Accounts made before addresses were normalised may hold look-alikes (`bob@example.com`
typed in fullwidth letters beside the plain one). Each address whose normal form is free
is rewritten to it. Addresses are never merged: when two or more rows share a normal form,
or a normal form still holds invisible or control characters, those rows are left as they
are and named (by user id) in a warning, for an operator to resolve; the migration itself
succeeds, so a deploy never stops on it. Reads do not depend on it: stored addresses are
read back as stored.

Downgrading changes nothing: the original spellings are not kept.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import logging
import unicodedata
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

log = logging.getLogger("hexmart.migrations")

# The rule of this revision, written out here so that the migration keeps doing what it
# did when the domain's rule moves on.
_REFUSED_CATEGORIES = ("Cc", "Cf", "Cs")


def normal_form(address: str) -> str:
    return unicodedata.normalize("NFKC", address).lower().strip()


def _has_refused_characters(address: str) -> bool:
    return any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in address)


def upgrade() -> None:
    users = sa.table("users", sa.column("id", sa.String), sa.column("email", sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c.email).order_by(users.c.id)).all()
    by_normal_form: dict[str, list[tuple[str, str]]] = defaultdict(list)
    unfit: list[str] = []
    for user_id, email in rows:
        normal = normal_form(email)
        if _has_refused_characters(normal):
            unfit.append(user_id)
        else:
            by_normal_form[normal].append((user_id, email))
    spelled = {email: user_id for user_id, email in rows}
    collisions: list[list[str]] = []
    for normal, owners in by_normal_form.items():
        holder = spelled.get(normal)
        if holder is not None and holder not in {user_id for user_id, _ in owners}:
            owners = [(holder, normal), *owners]  # spelled so by a row of another form
        if len(owners) > 1:
            collisions.append([user_id for user_id, _ in owners])
            continue
        user_id, email = owners[0]
        if email != normal:
            bind.execute(users.update().where(users.c.id == user_id).values(email=normal))
    for ids in collisions:
        log.warning(
            "email normalisation: users %s share one address once normalised (NFKC, "
            "lower case); left unchanged, so only the one already in normal form (if any) "
            "can sign in. Merge or rename them by hand.",
            ", ".join(ids),
        )
    if unfit:
        log.warning(
            "email normalisation: users %s have addresses holding invisible or control "
            "characters; left unchanged. Give them a clean address by hand.",
            ", ".join(unfit),
        )


def downgrade() -> None:
    """Nothing to undo: the spellings before normalisation are not kept."""
