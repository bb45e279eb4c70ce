from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.inprocess.token_store import InMemoryTokenStore
from application.ports.security import RefreshFamily

NOW = datetime(2025, 1, 1, tzinfo=UTC)


async def test_expired_entries_nobody_asks_about_are_eventually_dropped() -> None:
    store = InMemoryTokenStore()
    for n in range(1_000):
        await store.create_family(RefreshFamily(f"f{n}", "u", "h", NOW + timedelta(minutes=1)))
        await store.put_one_time("reset", f"t{n}", "u", NOW + timedelta(minutes=1))
    await store.family_owner("f0", NOW + timedelta(hours=1))  # the store learns the time
    for n in range(100):
        await store.put_one_time("reset", f"fresh{n}", "u", NOW + timedelta(days=1))
    assert len(store._families) < 10
    assert len(store._one_time) <= 100
    assert await store.take_one_time("reset", "fresh99", NOW + timedelta(hours=1)) == "u"
