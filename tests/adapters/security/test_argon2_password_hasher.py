"""argon2id specifics: parameters, rehashing, and the legacy bcrypt hashes."""

from __future__ import annotations

import threading

import argon2
import bcrypt
import pytest

from adapters.security.passwords import Argon2PasswordHasher

PASSWORD = "correct horse battery staple"


def legacy_bcrypt_hash(password: bytes, prefix: bytes = b"$2b$") -> str:
    made = bcrypt.hashpw(password, bcrypt.gensalt(rounds=4))
    return (prefix + made[4:]).decode()


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher.for_tests()


async def test_hashes_are_argon2id_with_the_configured_parameters() -> None:
    hasher = Argon2PasswordHasher(time_cost=2, memory_cost_kib=1024, parallelism=2)
    parameters = argon2.extract_parameters(await hasher.hash(PASSWORD))
    assert parameters.type is argon2.Type.ID
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (2, 1024, 2)


async def test_the_default_parameters_are_rfc_9106_low_memory() -> None:
    assert Argon2PasswordHasher()._hasher.memory_cost == 65536
    assert Argon2PasswordHasher()._hasher.time_cost == 3


async def test_a_hash_made_with_weaker_parameters_needs_a_rehash(
    hasher: Argon2PasswordHasher,
) -> None:
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost_kib=16, parallelism=1)
    weak_hash = await hasher.hash(PASSWORD)
    assert stronger.needs_rehash(weak_hash)
    assert await stronger.verify(weak_hash, PASSWORD)


async def test_an_argon2i_hash_still_verifies_but_needs_a_rehash(
    hasher: Argon2PasswordHasher,
) -> None:
    argon2i_hash = argon2.PasswordHasher(
        time_cost=1, memory_cost=8, parallelism=1, type=argon2.Type.I
    ).hash(PASSWORD)
    assert await hasher.verify(argon2i_hash, PASSWORD)
    assert hasher.needs_rehash(argon2i_hash)


@pytest.mark.parametrize("prefix", [b"$2a$", b"$2b$", b"$2y$"])
async def test_a_legacy_bcrypt_hash_verifies_and_needs_a_rehash(
    hasher: Argon2PasswordHasher, prefix: bytes
) -> None:
    legacy = legacy_bcrypt_hash(PASSWORD.encode(), prefix)
    assert await hasher.verify(legacy, PASSWORD)
    assert not await hasher.verify(legacy, PASSWORD + "?")
    assert hasher.needs_rehash(legacy)


async def test_a_long_password_checks_against_bcrypt_s_first_72_bytes_like_before(
    hasher: Argon2PasswordHasher,
) -> None:
    long_password = "ä" * 50  # 100 bytes of UTF-8; old bcrypt only saw the first 72
    legacy = legacy_bcrypt_hash(long_password.encode()[:72])
    assert await hasher.verify(legacy, long_password)


async def test_a_password_with_a_nul_byte_never_crashes_bcrypt_verification(
    hasher: Argon2PasswordHasher,
) -> None:
    legacy = legacy_bcrypt_hash(b"password")
    assert not await hasher.verify(legacy, "pass\x00word")


async def test_hashing_and_verifying_run_off_the_event_loop_thread(
    hasher: Argon2PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = hasher._hasher
    threads: list[int] = []

    class ThreadSpy:
        def hash(self, password: str) -> str:
            threads.append(threading.get_ident())
            return real.hash(password)

        def verify(self, password_hash: str, password: str) -> bool:
            threads.append(threading.get_ident())
            return real.verify(password_hash, password)

    monkeypatch.setattr(hasher, "_hasher", ThreadSpy())
    assert await hasher.verify(await hasher.hash(PASSWORD), PASSWORD)
    assert len(threads) == 2
    assert threading.get_ident() not in threads
