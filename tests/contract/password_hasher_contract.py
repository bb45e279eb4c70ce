"""The PasswordHasher contract."""

from __future__ import annotations

import abc
import asyncio

import pytest

from application.ports.security import PasswordHasher

PASSWORD = "correct horse battery staple"

MALFORMED_HASHES = [
    "",
    "plain text password",
    "$argon2id$",
    "$argon2id$v=19$m=8,t=1,p=1$AAAA$BBBB",
    "$argon2id$v=19$m=8,t=1,p=1$not base64!$also not",
    "$argon2xyz$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
    "$2b$",
    "$2b$04$short",
    "$2b$99$abcdefghijklmnopqrstuuJ0TtVvT3M3b2K0Kc6q7X9vQHXyXUnMa",
    "$pbkdf2-sha256$29000$N2bMWcs5p3Su$ZzwA6fN0Sg",
    "\x00\x01\x02",
    "é" * 1000,
]


class PasswordHasherContract(abc.ABC):
    @abc.abstractmethod
    def make_hasher(self) -> PasswordHasher: ...

    @pytest.fixture
    def hasher(self) -> PasswordHasher:
        return self.make_hasher()

    async def test_the_right_password_verifies(self, hasher: PasswordHasher) -> None:
        assert await hasher.verify(await hasher.hash(PASSWORD), PASSWORD)

    async def test_a_wrong_password_does_not_verify(self, hasher: PasswordHasher) -> None:
        password_hash = await hasher.hash(PASSWORD)
        assert not await hasher.verify(password_hash, PASSWORD + "!")
        assert not await hasher.verify(password_hash, PASSWORD.upper())
        assert not await hasher.verify(password_hash, "")

    async def test_the_hash_does_not_contain_the_password(self, hasher: PasswordHasher) -> None:
        assert PASSWORD not in await hasher.hash(PASSWORD)

    async def test_the_same_password_hashes_differently_each_time(
        self, hasher: PasswordHasher
    ) -> None:
        assert await hasher.hash(PASSWORD) != await hasher.hash(PASSWORD)

    @pytest.mark.parametrize(
        "password", ["pässwörd-ünïcødé", "密码密码密码密码", "emoji 🔐🔑 password", "x" * 256]
    )
    async def test_any_unicode_or_long_password_round_trips(
        self, hasher: PasswordHasher, password: str
    ) -> None:
        password_hash = await hasher.hash(password)
        assert await hasher.verify(password_hash, password)
        assert not await hasher.verify(password_hash, password[:-1])

    async def test_a_fresh_hash_needs_no_rehash(self, hasher: PasswordHasher) -> None:
        assert not hasher.needs_rehash(await hasher.hash(PASSWORD))

    @pytest.mark.parametrize("bad_hash", MALFORMED_HASHES)
    async def test_a_malformed_or_unknown_hash_never_verifies_and_never_raises(
        self, hasher: PasswordHasher, bad_hash: str
    ) -> None:
        assert not await hasher.verify(bad_hash, PASSWORD)
        assert hasher.needs_rehash(bad_hash)

    async def test_concurrent_hashes_all_verify(self, hasher: PasswordHasher) -> None:
        passwords = [f"password number {n}" for n in range(8)]
        hashes = await asyncio.gather(*(hasher.hash(p) for p in passwords))
        results = await asyncio.gather(
            *(hasher.verify(h, p) for h, p in zip(hashes, passwords, strict=True))
        )
        assert all(results)
