"""JwtTokenIssuer's configuration and details; the contract covers decoding and attacks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.security.jwt_tokens import JwtTokenIssuer
from adapters.system.clock import FixedClock
from domain.errors import InvalidToken
from tests.contract.jwt_forgery import hs256_token

SECRET = "x" * 32


def pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def make(clock: FixedClock | None = None, **overrides: Any) -> JwtTokenIssuer:
    settings: dict[str, Any] = {
        "clock": clock or FixedClock(),
        "issuer": "https://shop.example",
        "audience": "hexmart-api",
        "access_ttl": timedelta(minutes=15),
    }
    settings.update(overrides)
    if "private_key_pem" not in settings:
        settings.setdefault("secret", SECRET)
    return JwtTokenIssuer(**settings)


def test_a_short_secret_is_refused_with_a_message_saying_how_to_make_one() -> None:
    with pytest.raises(ValueError, match=r"at least 32 bytes, got 31.*secrets.token_urlsafe"):
        make(secret="x" * 31)


def test_secret_length_counts_bytes_not_characters() -> None:
    assert make(secret="é" * 16).algorithm == "HS256"  # 16 characters, 32 bytes


def test_a_secret_and_a_key_together_are_refused() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(ValueError, match="either a secret"):
        make(secret=SECRET, private_key_pem=pem(key))


def test_no_signing_configuration_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match="either a secret"):
        JwtTokenIssuer(
            clock=FixedClock(), issuer="i", audience="a", access_ttl=timedelta(minutes=1)
        )


def test_the_algorithm_follows_from_the_key() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert make().algorithm == "HS256"
    assert make(private_key_pem=pem(rsa_key)).algorithm == "RS256"
    assert make(private_key_pem=pem(ed25519.Ed25519PrivateKey.generate())).algorithm == "EdDSA"


def test_a_weak_rsa_key_is_refused() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the point of the test)
    with pytest.raises(ValueError, match="at least 2048 bits, got 1024"):
        make(private_key_pem=pem(weak))


def test_an_unsupported_key_type_is_refused() -> None:
    with pytest.raises(ValueError, match=r"use RSA \(RS256\) or Ed25519 \(EdDSA\)"):
        make(private_key_pem=pem(ec.generate_private_key(ec.SECP256R1())))


def test_a_public_key_that_does_not_belong_to_the_private_key_is_refused() -> None:
    ours, theirs = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(ValueError, match="does not belong"):
        make(private_key_pem=pem(ours), public_key_pem=public_pem(theirs))


def test_garbage_instead_of_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="not an unencrypted PEM key"):
        make(private_key_pem="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-5)])
def test_a_lifetime_that_is_not_positive_is_refused(ttl: timedelta) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        make(access_ttl=ttl)


def test_issued_tokens_carry_exactly_the_documented_claims() -> None:
    token = make().issue_access_token(subject="user-1", role="customer").token
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert set(claims) == {"sub", "role", "epoch", "typ", "jti", "iat", "exp", "iss", "aud"}
    assert (claims["typ"], claims["iss"], claims["aud"]) == (
        "access",
        "https://shop.example",
        "hexmart-api",
    )
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_an_expired_token_says_it_expired_so_clients_know_to_refresh() -> None:
    clock = FixedClock()
    issuer = make(clock)
    token = issuer.issue_access_token(subject="user-1", role="customer").token
    clock.advance(timedelta(hours=1))
    with pytest.raises(InvalidToken, match="token expired"):
        issuer.decode_access_token(token)


def test_the_leeway_tolerates_small_clock_differences_and_no_more() -> None:
    clock = FixedClock()
    issuer = make(clock, leeway=timedelta(seconds=5))
    token = issuer.issue_access_token(subject="user-1", role="customer").token
    clock.advance(timedelta(minutes=15, seconds=4))
    assert issuer.decode_access_token(token).subject == "user-1"
    clock.advance(1)
    with pytest.raises(InvalidToken):
        issuer.decode_access_token(token)


def test_time_is_read_from_the_injected_clock_not_the_wall_clock() -> None:
    clock = FixedClock()  # 2025-01-01, long before the wall clock's today
    issuer = make(clock)
    issued = issuer.issue_access_token(subject="user-1", role="customer")
    assert issued.expires_at == clock.now() + timedelta(minutes=15)
    assert issuer.decode_access_token(issued.token).issued_at == clock.now()


def test_an_issuer_with_the_same_secret_accepts_the_token_another_one_issued() -> None:
    token = make().issue_access_token(subject="user-1", role="customer").token
    assert make().decode_access_token(token).subject == "user-1"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", [10**400, -(10**400), 1e308, float("nan"), float("inf")])
def test_absurd_times_are_refused_not_crashed_on(claim: str, value: Any) -> None:
    issuer = make()
    good = jwt.decode(
        issuer.issue_access_token(subject="user-1", role="customer").token,
        options={"verify_signature": False},
    )
    with pytest.raises(InvalidToken):
        issuer.decode_access_token(hs256_token({**good, claim: value}, SECRET.encode()))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
claim_names = st.sampled_from(["sub", "role", "typ", "jti", "iat", "exp", "iss", "aud", "nbf"])


@settings(max_examples=300, deadline=None)
@given(token=st.text())
def test_any_text_at_all_is_refused_with_invalid_token_and_nothing_else(token: str) -> None:
    with pytest.raises(InvalidToken):
        make().decode_access_token(token)


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(claim_names, json_values, min_size=1))
def test_well_signed_odd_claims_are_accepted_or_refused_never_crash(
    changes: dict[str, Any],
) -> None:
    issuer = make()
    good = jwt.decode(
        issuer.issue_access_token(subject="user-1", role="customer").token,
        options={"verify_signature": False},
    )
    # Signed by hand: PyJWT would refuse to encode some of these claims.
    token = hs256_token({**good, **changes}, SECRET.encode())
    try:
        claims = issuer.decode_access_token(token)
    except InvalidToken:
        return
    assert isinstance(claims.subject, str)
    assert claims.subject
    assert isinstance(claims.role, str)
