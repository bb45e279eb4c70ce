"""The TokenIssuer contract, with the classic attacks on JWTs (the port issues JWTs).

The attacks that need something of the key (a public half to confuse with an HMAC
secret, a second algorithm it can sign with) are contracts of their own, inherited by
the test classes whose keys have it, so none is ever collected only to be skipped.
"""

from __future__ import annotations

import abc
from datetime import timedelta
from typing import Any

import pytest

from application.ports.security import TokenIssuer
from domain.errors import InvalidToken
from tests.contract.jwt_forgery import hs256_token, unsigned_token, with_claims_changed
from tests.contract.time_control import TimedContract

MISSING = object()
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "typ"]


class TokenIssuerContract(TimedContract, abc.ABC):
    """Subclass with `make_issuer` and `make_issuer_with_another_key` (both using
    `self.clock`, `issuer_name`, `audience` and `access_ttl`) and `sign`, which signs any
    claims with the issuer's own key, so tests can craft well-signed bad tokens. Add
    `AsymmetricKeyContract` for a key pair, `SeveralAlgorithmsKeyContract` for a key that
    can sign with another algorithm than the issuer's."""

    issuer_name = "https://shop.example"
    audience = "hexmart-api"
    access_ttl = timedelta(minutes=15)

    @abc.abstractmethod
    def make_issuer(self) -> TokenIssuer: ...

    @abc.abstractmethod
    def make_issuer_with_another_key(self) -> TokenIssuer: ...

    @abc.abstractmethod
    def sign(self, claims: dict[str, Any], *, algorithm: str | None = None) -> str:
        """Sign `claims` with the issuer's key (and algorithm, unless one is given)."""

    @pytest.fixture
    def issuer(self, _set_up_time: None) -> TokenIssuer:
        return self.make_issuer()

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """A complete, valid claim set as of now; pass `claim=MISSING` to leave one out."""
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "sub": "user-1",
            "role": "customer",
            "typ": "access",
            "jti": "token-1",
            "iat": now,
            "exp": now + int(self.access_ttl.total_seconds()),
            "iss": self.issuer_name,
            "aud": self.audience,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not MISSING}

    def assert_refused(self, issuer: TokenIssuer, token: str) -> None:
        with pytest.raises(InvalidToken):
            issuer.decode_access_token(token)

    # -- what a good token carries -------------------------------------------------

    def test_an_issued_token_decodes_to_who_what_and_until_when(self, issuer: TokenIssuer) -> None:
        issued = issuer.issue_access_token(subject="user-1", role="admin")
        claims = issuer.decode_access_token(issued.token)
        assert (claims.subject, claims.role, claims.token_id) == (
            "user-1",
            "admin",
            issued.token_id,
        )
        assert claims.issued_at == self.clock.now().replace(microsecond=0)
        assert claims.expires_at == claims.issued_at + self.access_ttl == issued.expires_at

    def test_a_token_carries_the_users_token_epoch(self, issuer: TokenIssuer) -> None:
        issued = issuer.issue_access_token(subject="user-1", role="admin", epoch=3)
        assert issuer.decode_access_token(issued.token).epoch == 3
        # Tokens from before epochs existed carry none: they read as the first epoch.
        assert issuer.decode_access_token(self.sign(self.claims())).epoch == 0

    @pytest.mark.parametrize("epoch", [-1, "1", 1.5, True, None])
    def test_a_malformed_epoch_is_refused(self, issuer: TokenIssuer, epoch: object) -> None:
        self.assert_refused(issuer, self.sign(self.claims(epoch=epoch)))

    def test_every_token_has_its_own_id(self, issuer: TokenIssuer) -> None:
        ids = {issuer.issue_access_token(subject="u", role="customer").token_id for _ in range(50)}
        assert len(ids) == 50

    def test_a_well_signed_token_with_every_claim_is_accepted(self, issuer: TokenIssuer) -> None:
        assert issuer.decode_access_token(self.sign(self.claims())).subject == "user-1"

    # -- time ----------------------------------------------------------------------

    def test_a_token_is_accepted_until_just_before_it_expires(self, issuer: TokenIssuer) -> None:
        issued = issuer.issue_access_token(subject="user-1", role="customer")
        self.clock.advance(self.access_ttl - timedelta(seconds=1))
        assert issuer.decode_access_token(issued.token).subject == "user-1"

    def test_an_expired_token_is_refused(self, issuer: TokenIssuer) -> None:
        issued = issuer.issue_access_token(subject="user-1", role="customer")
        self.clock.advance(self.access_ttl + timedelta(minutes=5))
        self.assert_refused(issuer, issued.token)

    def test_a_token_issued_in_the_future_is_refused(self, issuer: TokenIssuer) -> None:
        now = int(self.clock.now().timestamp())
        self.assert_refused(issuer, self.sign(self.claims(iat=now + 3600, exp=now + 7200)))

    def test_a_token_not_valid_before_a_future_time_is_refused(self, issuer: TokenIssuer) -> None:
        now = int(self.clock.now().timestamp())
        self.assert_refused(issuer, self.sign(self.claims(nbf=now + 3600)))

    @pytest.mark.parametrize("bad", ["2099-01-01", None, True, [1], {"t": 1}])
    def test_an_expiry_that_is_not_a_number_is_refused(self, issuer: TokenIssuer, bad: Any) -> None:
        self.assert_refused(issuer, self.sign(self.claims(exp=bad)))

    # -- claims --------------------------------------------------------------------

    @pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
    def test_a_token_missing_a_required_claim_is_refused(
        self, issuer: TokenIssuer, claim: str
    ) -> None:
        self.assert_refused(issuer, self.sign(self.claims(**{claim: MISSING})))

    def test_a_token_for_another_audience_is_refused(self, issuer: TokenIssuer) -> None:
        self.assert_refused(issuer, self.sign(self.claims(aud="another-api")))

    def test_a_token_from_another_issuer_is_refused(self, issuer: TokenIssuer) -> None:
        self.assert_refused(issuer, self.sign(self.claims(iss="https://evil.example")))

    def test_a_refresh_token_is_not_an_access_token(self, issuer: TokenIssuer) -> None:
        self.assert_refused(issuer, self.sign(self.claims(typ="refresh")))

    @pytest.mark.parametrize("bad_subject", ["", 42, None])
    def test_a_token_without_a_usable_subject_is_refused(
        self, issuer: TokenIssuer, bad_subject: Any
    ) -> None:
        self.assert_refused(issuer, self.sign(self.claims(sub=bad_subject)))

    def test_a_token_without_a_role_is_refused(self, issuer: TokenIssuer) -> None:
        self.assert_refused(issuer, self.sign(self.claims(role=MISSING)))

    # -- forgeries -----------------------------------------------------------------

    @pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
    def test_an_unsigned_alg_none_token_is_refused(self, issuer: TokenIssuer, alg: str) -> None:
        self.assert_refused(issuer, unsigned_token(self.claims(), alg))

    def test_a_token_signed_with_another_key_is_refused(self, issuer: TokenIssuer) -> None:
        stranger = self.make_issuer_with_another_key()
        self.assert_refused(issuer, stranger.issue_access_token(subject="u", role="admin").token)

    def test_a_token_whose_claims_were_changed_after_signing_is_refused(
        self, issuer: TokenIssuer
    ) -> None:
        issued = issuer.issue_access_token(subject="user-1", role="customer")
        self.assert_refused(issuer, with_claims_changed(issued.token, role="admin"))
        self.assert_refused(issuer, with_claims_changed(issued.token, sub="user-2"))

    @pytest.mark.parametrize(
        "garbage",
        ["", "not a token", "a.b.c", "e30.e30.", "e30.e30", "...", "😀.😀.😀", "x" * 10_000],
    )
    def test_garbage_is_refused_with_invalid_token_only(
        self, issuer: TokenIssuer, garbage: str
    ) -> None:
        self.assert_refused(issuer, garbage)

    def test_a_truncated_token_is_refused(self, issuer: TokenIssuer) -> None:
        token = issuer.issue_access_token(subject="user-1", role="customer").token
        self.assert_refused(issuer, token[:-3])


class AsymmetricKeyContract(TokenIssuerContract):
    """For an issuer that signs with a private key and verifies with a public one."""

    @abc.abstractmethod
    def public_key_pem(self) -> bytes:
        """The verifying key, which an attacker can read."""

    def test_hs256_keyed_with_the_public_key_is_refused(self, issuer: TokenIssuer) -> None:
        public_key = self.public_key_pem()
        self.assert_refused(issuer, hs256_token(self.claims(role="admin"), public_key))


class SeveralAlgorithmsKeyContract(TokenIssuerContract):
    """For an issuer whose key can also sign with another algorithm (HS512 for an HS256
    secret, PS256 for an RS256 key)."""

    # The other algorithm; a subclass must name it.
    other_algorithm_for_the_key: str

    def test_a_token_signed_by_the_right_key_with_another_algorithm_is_refused(
        self, issuer: TokenIssuer
    ) -> None:
        token = self.sign(self.claims(), algorithm=self.other_algorithm_for_the_key)
        self.assert_refused(issuer, token)
