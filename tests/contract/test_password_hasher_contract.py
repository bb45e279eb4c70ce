from __future__ import annotations

from adapters.security.passwords import Argon2PasswordHasher
from application.ports.security import PasswordHasher
from tests.contract.password_hasher_contract import PasswordHasherContract


class TestArgon2PasswordHasher(PasswordHasherContract):
    def make_hasher(self) -> PasswordHasher:
        return Argon2PasswordHasher.for_tests()
