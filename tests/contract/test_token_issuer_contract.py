from __future__ import annotations

import functools
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from adapters.security.jwt_tokens import JwtTokenIssuer
from application.ports.security import TokenIssuer
from tests.contract.token_issuer_contract import (
    AsymmetricKeyContract,
    SeveralAlgorithmsKeyContract,
    TokenIssuerContract,
)

# 64 bytes, so that signing HS512 with them (an attack test) draws no key-length warning.
SECRET = "an-hs256-secret-for-the-contract-tests-".ljust(64, "s")
OTHER_SECRET = "another-hs256-secret-for-the-contract-tests-".ljust(64, "t")


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def ed25519_key(name: str) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def private_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def jwt_issuer(contract: TokenIssuerContract, **signing: Any) -> TokenIssuer:
    return JwtTokenIssuer(
        clock=contract.clock,
        issuer=contract.issuer_name,
        audience=contract.audience,
        access_ttl=contract.access_ttl,
        **signing,
    )


class TestHs256JwtTokenIssuer(SeveralAlgorithmsKeyContract):
    other_algorithm_for_the_key = "HS512"

    def make_issuer(self) -> TokenIssuer:
        return jwt_issuer(self, secret=SECRET)

    def make_issuer_with_another_key(self) -> TokenIssuer:
        return jwt_issuer(self, secret=OTHER_SECRET)

    def sign(self, claims: dict[str, Any], *, algorithm: str | None = None) -> str:
        return jwt.encode(claims, SECRET, algorithm=algorithm or "HS256")


class TestRs256JwtTokenIssuer(AsymmetricKeyContract, SeveralAlgorithmsKeyContract):
    other_algorithm_for_the_key = "PS256"

    def make_issuer(self) -> TokenIssuer:
        key = rsa_key("ours")
        return jwt_issuer(self, private_key_pem=private_pem(key), public_key_pem=public_pem(key))

    def make_issuer_with_another_key(self) -> TokenIssuer:
        return jwt_issuer(self, private_key_pem=private_pem(rsa_key("theirs")))

    def sign(self, claims: dict[str, Any], *, algorithm: str | None = None) -> str:
        return jwt.encode(claims, rsa_key("ours"), algorithm=algorithm or "RS256")

    def public_key_pem(self) -> bytes:
        return public_pem(rsa_key("ours"))


class TestEdDsaJwtTokenIssuer(AsymmetricKeyContract):
    """An Ed25519 key signs with EdDSA only."""

    def make_issuer(self) -> TokenIssuer:
        key = ed25519_key("ours")
        return jwt_issuer(self, private_key_pem=private_pem(key), public_key_pem=public_pem(key))

    def make_issuer_with_another_key(self) -> TokenIssuer:
        return jwt_issuer(self, private_key_pem=private_pem(ed25519_key("theirs")))

    def sign(self, claims: dict[str, Any], *, algorithm: str | None = None) -> str:
        return jwt.encode(claims, ed25519_key("ours"), algorithm=algorithm or "EdDSA")

    def public_key_pem(self) -> bytes:
        return public_pem(ed25519_key("ours"))
