from __future__ import annotations

from adapters.inprocess.token_store import InMemoryTokenStore
from application.ports.security import TokenStore
from tests.contract.token_store_contract import TokenStoreContract


class TestInMemoryTokenStore(TokenStoreContract):
    def make_token_store(self) -> TokenStore:
        return InMemoryTokenStore()
