"""Housekeeping: forgetting records that have outlived their purpose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports.persistence import UnitOfWorkFactory
from application.ports.runtime import Clock

# Outlasts every window in which a duplicate can still arrive (see `Maintenance.purge`).
PURGE_OLDER_THAN = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    idempotency_records: int
    processed_events: int  # provider events and email-ledger entries (one table)
    handled_outbox_messages: int


class Maintenance:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def purge(self, older_than: timedelta) -> PurgeReport:
        """Delete idempotency records, processed provider events and email-ledger entries
        recorded, and outbox messages handled, more than `older_than` ago, in one transaction.

        `older_than` must outlast every window in which a duplicate can still arrive: a
        client retrying `POST /orders` with its key, the payment provider re-sending a
        webhook (Stripe: up to three days), and a relayed event's job still waiting in the
        task queue (a day at most); past it, a duplicate would be acted on again.
        """
        if older_than <= timedelta(0):
            raise ValueError("older_than must be positive")
        cutoff = self._clock.now() - older_than
        async with self._uow_factory() as uow:
            report = PurgeReport(
                idempotency_records=await uow.idempotency.purge_before(cutoff),
                processed_events=await uow.processed_events.purge_before(cutoff),
                handled_outbox_messages=await uow.outbox.purge_handled_before(cutoff),
            )
            await uow.commit()
        return report
