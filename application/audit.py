"""The audit trail: who did what administrative thing to what, and when.

Every change made by staff, administrators, API keys or the admin CLI (role changes,
(de)activation, API keys, products and stock, catalog imports, cancellations, refunds,
shipping) records an `AuditEntry` in the same transaction as the change, so neither
exists without the other. Orders also get an entry for every status change (placed,
paid, cancelled, expired, shipped, delivered, refunded), whoever made it: that is the
order's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.ports.persistence import (
    AuditEntry,
    AuditQuery,
    Page,
    UnitOfWork,
    UnitOfWorkFactory,
)
from application.ports.runtime import Clock, IdGenerator
from application.principal import ADMIN_ONLY, Principal

_SECRET_WORDS = ("password", "secret", "token", "authorization", "key_hash")
REDACTED = "[redacted]"
MAX_TEXT = 500


def redact(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `summary` fit to keep: secrets replaced, long texts cut."""
    kept: dict[str, Any] = {}
    for name, value in summary.items():
        if any(word in name.lower() for word in _SECRET_WORDS) or name == "key":
            kept[name] = REDACTED
        elif isinstance(value, Mapping):
            kept[name] = redact(value)
        elif isinstance(value, str) and len(value) > MAX_TEXT:
            kept[name] = value[:MAX_TEXT] + "..."
        elif isinstance(value, (str, int, float, bool)) or value is None:
            kept[name] = value
        elif isinstance(value, (list, tuple, set, frozenset)):
            kept[name] = [str(item) for item in value]
        else:
            kept[name] = str(value)
    return kept


def actor_name(actor: Principal | None) -> str:
    """How the trail names an actor: the CLI operator, a user, an API key, or the shop."""
    if actor is None:
        return "system"
    names = []
    if actor.operator is not None:
        names.append(actor.operator)
    if actor.user_id is not None:
        names.append(f"user:{actor.user_id}")
    if actor.api_key_id is not None:
        names.append(f"api-key:{actor.api_key_id}")
    return " as ".join(names) or "system"


async def record_audit(
    uow: UnitOfWork,
    ids: IdGenerator,
    clock: Clock,
    actor: Principal | None,
    action: str,
    target: tuple[str, str],
    summary: Mapping[str, Any] | None = None,
) -> None:
    """Write one entry in `uow` (the transaction of the change). `actor` None: the shop
    itself (a payment provider's event, an expiry)."""
    await uow.audit.add(
        AuditEntry(
            id=ids.new_id(),
            at=clock.now(),
            actor_user_id=actor.user_id if actor else None,
            actor_api_key_id=actor.api_key_id if actor else None,
            actor_operator=actor.operator if actor else None,
            action=action,
            target_type=target[0],
            target_id=target[1],
            summary=redact(summary or {}),
            request_id=actor.request_id if actor else None,
        )
    )


class AuditTrail:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def list_entries(self, actor: Principal, query: AuditQuery) -> Page[AuditEntry]:
        """Newest first (administrators only)."""
        actor.require(ADMIN_ONLY)
        async with self._uow_factory() as uow:
            return await uow.audit.list_page(query)
