"""The audit trail (GET /admin/audit) and an order's history (GET /orders/{id})."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from application.ports.persistence import AuditEntry as AuditRecord
from entrypoints.http.schemas.common import rfc3339


class Actor(msgspec.Struct):
    """Who acted: a user, an API key, an operator of the admin CLI (`cli:<os user>`),
    several of them (an operator acting as a user), or none (`system`: the shop itself)."""

    name: str
    user_id: str | None
    api_key_id: str | None
    operator: str | None


class AuditEntry(msgspec.Struct):
    id: str
    at: datetime
    actor: Actor
    action: str
    target_type: str
    target_id: str
    summary: dict[str, Any]
    request_id: str | None


class AuditPage(msgspec.Struct):
    items: list[AuditEntry]
    next_cursor: str | None


def actor_out(entry: AuditRecord) -> Actor:
    return Actor(
        name=entry.actor_name,
        user_id=entry.actor_user_id,
        api_key_id=entry.actor_api_key_id,
        operator=entry.actor_operator,
    )


def audit_entry_out(entry: AuditRecord) -> AuditEntry:
    return AuditEntry(
        id=entry.id,
        at=rfc3339(entry.at),
        actor=actor_out(entry),
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        summary=entry.summary,
        request_id=entry.request_id,
    )
