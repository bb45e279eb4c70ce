"""Purging old housekeeping records: what is old goes, what is recent stays."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.maintenance import Maintenance, PurgeReport
from application.ports.persistence import IdempotencyRecord, OutboxMessage
from entrypoints.container import Container
from tests.application.shopping import clock


async def _record_one_of_each(shop: Container, tag: str) -> None:
    now = clock(shop).now()
    async with shop.unit_of_work()() as uow:
        await uow.idempotency.add(IdempotencyRecord("user-1", f"key-{tag}", "fp", "o-1", now))
        await uow.processed_events.add("stripe", f"evt-{tag}", now)
        await uow.outbox.add(OutboxMessage(f"sent-{tag}", "order_placed", {}, now))
        await uow.outbox.mark_enqueued([f"sent-{tag}"], now)
        await uow.outbox.mark_handled(f"sent-{tag}", now)
        await uow.outbox.add(OutboxMessage(f"unsent-{tag}", "order_placed", {}, now))
        await uow.commit()


async def test_records_older_than_the_cutoff_are_purged_and_recent_ones_kept(
    shop: Container,
) -> None:
    await _record_one_of_each(shop, "old")
    clock(shop).advance(timedelta(days=8))
    await _record_one_of_each(shop, "new")

    report = await Maintenance(shop.unit_of_work(), shop.clock()).purge(timedelta(days=7))

    assert report == PurgeReport(
        idempotency_records=1, processed_events=1, handled_outbox_messages=1
    )
    async with shop.unit_of_work()() as uow:
        assert await uow.idempotency.get("user-1", "key-old") is None
        assert await uow.idempotency.get("user-1", "key-new") is not None
        assert await uow.processed_events.add("stripe", "evt-old", clock(shop).now())
        assert not await uow.processed_events.add("stripe", "evt-new", clock(shop).now())
        unsent = {m.id for m in await uow.outbox.list_unsent(100)}
    # An unsent message is never purged, however old: it still has to be relayed.
    assert unsent == {"unsent-old", "unsent-new"}


async def test_purging_nothing_reports_nothing(shop: Container) -> None:
    report = await Maintenance(shop.unit_of_work(), shop.clock()).purge(timedelta(days=7))
    assert report == PurgeReport(0, 0, 0)


async def test_a_purge_age_must_be_positive(shop: Container) -> None:
    with pytest.raises(ValueError, match="positive"):
        await Maintenance(shop.unit_of_work(), shop.clock()).purge(timedelta(0))
