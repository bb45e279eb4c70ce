"""The TokenStore contract: refresh-token families with reuse detection, one-time tokens.

Time is passed to the store explicitly (`now`), so no clock is involved.
"""

from __future__ import annotations

import abc
import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from application.ports.security import RefreshFamily, Rotation, RotationResult, TokenStore

NOW = datetime(2025, 1, 1, tzinfo=UTC)
LIFETIME = timedelta(days=30)


def family(family_id: str = "fam-1", user_id: str = "user-1", current: str = "h0") -> RefreshFamily:
    return RefreshFamily(
        family_id=family_id, user_id=user_id, current_hash=current, expires_at=NOW + LIFETIME
    )


class TokenStoreContract(abc.ABC):
    @abc.abstractmethod
    def make_token_store(self) -> TokenStore: ...

    @pytest.fixture
    def store(self) -> TokenStore:
        return self.make_token_store()

    # -- refresh-token families ----------------------------------------------------

    async def test_presenting_the_current_hash_rotates_to_the_new_one(
        self, store: TokenStore
    ) -> None:
        await store.create_family(family())
        assert await store.rotate("fam-1", "h0", "h1", NOW) == Rotation(
            RotationResult.ROTATED, "user-1"
        )
        assert (await store.rotate("fam-1", "h1", "h2", NOW)).result is RotationResult.ROTATED

    async def test_a_rotation_reports_the_token_epoch_the_family_was_created_in(
        self, store: TokenStore
    ) -> None:
        await store.create_family(
            RefreshFamily(
                family_id="fam-1",
                user_id="user-1",
                current_hash="h0",
                expires_at=NOW + LIFETIME,
                epoch=7,
            )
        )
        assert await store.rotate("fam-1", "h0", "h1", NOW) == Rotation(
            RotationResult.ROTATED, "user-1", 7
        )
        assert (await store.rotate("fam-1", "h1", "h2", NOW)).epoch == 7

    async def test_presenting_a_spent_hash_revokes_the_whole_family(
        self, store: TokenStore
    ) -> None:
        await store.create_family(family())
        await store.rotate("fam-1", "h0", "h1", NOW)
        assert await store.rotate("fam-1", "h0", "h-thief", NOW) == Rotation(
            RotationResult.REUSED, "user-1"
        )
        # The legitimate holder of h1 is logged out too: we cannot tell who is who.
        assert (await store.rotate("fam-1", "h1", "h2", NOW)).result is RotationResult.UNKNOWN
        assert await store.family_owner("fam-1", NOW) is None

    async def test_presenting_a_hash_never_issued_revokes_the_family(
        self, store: TokenStore
    ) -> None:
        await store.create_family(family())
        assert (await store.rotate("fam-1", "forged", "h1", NOW)).result is RotationResult.REUSED
        assert (await store.rotate("fam-1", "h0", "h1", NOW)).result is RotationResult.UNKNOWN

    async def test_an_unknown_family_rotates_to_nothing(self, store: TokenStore) -> None:
        assert await store.rotate("no-such-family", "h0", "h1", NOW) == Rotation(
            RotationResult.UNKNOWN, None
        )

    async def test_an_expired_family_is_unknown(self, store: TokenStore) -> None:
        await store.create_family(family())
        expiry = NOW + LIFETIME
        assert await store.family_owner("fam-1", expiry - timedelta(seconds=1)) == "user-1"
        assert await store.family_owner("fam-1", expiry) is None
        assert (await store.rotate("fam-1", "h0", "h1", expiry)).result is RotationResult.UNKNOWN

    async def test_rotation_does_not_extend_a_family_s_life(self, store: TokenStore) -> None:
        await store.create_family(family())
        later = NOW + LIFETIME - timedelta(minutes=1)
        await store.rotate("fam-1", "h0", "h1", later)
        assert await store.family_owner("fam-1", NOW + LIFETIME) is None

    async def test_family_owner_names_the_user_of_a_live_family(self, store: TokenStore) -> None:
        await store.create_family(family(user_id="ann"))
        assert await store.family_owner("fam-1", NOW) == "ann"
        assert await store.family_owner("other", NOW) is None

    async def test_revoking_a_family_leaves_the_user_s_other_families(
        self, store: TokenStore
    ) -> None:
        await store.create_family(family("laptop"))
        await store.create_family(family("phone"))
        await store.revoke_family("laptop")
        assert (await store.rotate("laptop", "h0", "h1", NOW)).result is RotationResult.UNKNOWN
        assert (await store.rotate("phone", "h0", "h1", NOW)).result is RotationResult.ROTATED

    async def test_revoking_an_unknown_family_is_harmless(self, store: TokenStore) -> None:
        await store.revoke_family("no-such-family")

    async def test_revoking_a_user_ends_all_their_families_and_nobody_else_s(
        self, store: TokenStore
    ) -> None:
        await store.create_family(family("ann-laptop", "ann"))
        await store.create_family(family("ann-phone", "ann"))
        await store.create_family(family("bob-laptop", "bob"))
        await store.revoke_user("ann")
        assert await store.family_owner("ann-laptop", NOW) is None
        assert await store.family_owner("ann-phone", NOW) is None
        assert await store.family_owner("bob-laptop", NOW) == "bob"

    async def test_racing_rotations_of_one_token_let_exactly_one_through(
        self, store: TokenStore
    ) -> None:
        await store.create_family(family())
        rotations = await asyncio.gather(
            *(store.rotate("fam-1", "h0", f"h1-{n}", NOW) for n in range(10))
        )
        results = [rotation.result for rotation in rotations]
        assert results.count(RotationResult.ROTATED) == 1
        # The first loser trips reuse detection; later ones find the family gone.
        assert results.count(RotationResult.REUSED) >= 1
        assert results.count(RotationResult.REUSED) + results.count(RotationResult.UNKNOWN) == 9
        assert await store.family_owner("fam-1", NOW) is None

    # -- one-time tokens -----------------------------------------------------------

    async def test_a_one_time_token_is_taken_exactly_once(self, store: TokenStore) -> None:
        await store.put_one_time("password-reset", "t-hash", "user-1", NOW + timedelta(hours=1))
        assert await store.take_one_time("password-reset", "t-hash", NOW) == "user-1"
        assert await store.take_one_time("password-reset", "t-hash", NOW) is None

    async def test_an_expired_one_time_token_is_not_taken(self, store: TokenStore) -> None:
        expiry = NOW + timedelta(hours=1)
        await store.put_one_time("password-reset", "t-hash", "user-1", expiry)
        assert await store.take_one_time("password-reset", "t-hash", expiry) is None

    async def test_a_one_time_token_works_only_for_its_purpose(self, store: TokenStore) -> None:
        await store.put_one_time("verify-email", "t-hash", "user-1", NOW + timedelta(hours=1))
        assert await store.take_one_time("password-reset", "t-hash", NOW) is None
        assert await store.take_one_time("verify-email", "t-hash", NOW) == "user-1"

    async def test_an_unknown_one_time_token_is_not_taken(self, store: TokenStore) -> None:
        assert await store.take_one_time("password-reset", "nothing", NOW) is None

    async def test_racing_takes_of_one_token_give_it_to_exactly_one(
        self, store: TokenStore
    ) -> None:
        await store.put_one_time("password-reset", "t-hash", "user-1", NOW + timedelta(hours=1))
        taken = await asyncio.gather(
            *(store.take_one_time("password-reset", "t-hash", NOW) for _ in range(10))
        )
        assert taken.count("user-1") == 1
        assert taken.count(None) == 9
