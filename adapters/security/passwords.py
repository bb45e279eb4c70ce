"""Password hashing with argon2id; legacy bcrypt hashes still verify, then get upgraded."""

from __future__ import annotations

import asyncio

import argon2
import bcrypt
from argon2.exceptions import InvalidHashError, VerificationError

_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
# bcrypt only ever looked at the first 72 bytes of a password; bcrypt >= 5 refuses longer
# ones instead of truncating, so we truncate to check hashes made by the old scheme.
_BCRYPT_MAX_BYTES = 72


class Argon2PasswordHasher:
    """argon2id hashes in the PHC string format ($argon2id$v=19$m=...,t=...,p=...$...).

    The defaults are RFC 9106's "low memory" profile (64 MiB, 3 passes, 4 lanes), which
    is also argon2-cffi's default. `for_tests()` gives a hasher with the cheapest
    parameters argon2 allows, so a test suite can hash thousands of passwords quickly.

    `verify` also accepts bcrypt hashes ($2a$/$2b$/$2y$) from the previous scheme, and
    `needs_rehash` is True for them and for argon2 hashes made with other parameters, so
    the login use case can upgrade a hash while it has the plain password at hand.
    Hashing and verifying run in a worker thread (argon2 and bcrypt release the GIL).
    """

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost_kib: int = 65536,
        parallelism: int = 4,
        hash_len: int = 32,
        salt_len: int = 16,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            hash_len=hash_len,
            salt_len=salt_len,
            type=argon2.Type.ID,
        )

    @classmethod
    def for_tests(cls) -> Argon2PasswordHasher:
        """The cheapest argon2id parameters: about a millisecond per hash. Never in production."""
        return cls(time_cost=1, memory_cost_kib=8, parallelism=1)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        """True if `password` matches; False for a wrong password and for any hash that is
        malformed or of a scheme we do not know (never raises for those)."""
        if password_hash.startswith(_BCRYPT_PREFIXES):
            return await asyncio.to_thread(_verify_bcrypt, password_hash, password)
        if password_hash.startswith("$argon2"):
            return await asyncio.to_thread(self._verify_argon2, password_hash, password)
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True unless the hash is argon2id with exactly this hasher's parameters."""
        if not password_hash.startswith("$argon2id$"):
            return True
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _verify_argon2(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError, UnicodeError):
            # VerificationError covers both a mismatch and a hash argon2 cannot decode.
            return False


def _verify_bcrypt(password_hash: str, password: str) -> bool:
    try:
        secret = password.encode("utf-8")[:_BCRYPT_MAX_BYTES]
        return bcrypt.checkpw(secret, password_hash.encode("ascii"))
    except (ValueError, UnicodeError):
        # An invalid salt, cost or length in the stored hash, or a NUL in the password.
        return False
