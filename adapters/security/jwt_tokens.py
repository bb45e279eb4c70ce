"""Short-lived access tokens as JWTs (PyJWT), signed with HS256, RS256 or EdDSA."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from application.ports.runtime import Clock
from application.ports.security import AccessClaims, IssuedToken
from domain.errors import InvalidToken

MIN_SECRET_BYTES = 32
MIN_RSA_BITS = 2048
ACCESS_TOKEN_TYPE = "access"
# The user's token epoch at issue. Optional so that tokens issued before it existed read as
# epoch 0, the epoch every user starts in.
EPOCH_CLAIM = "epoch"
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti"]


class JwtTokenIssuer:
    """Issues and checks access tokens: claims `sub`, `role`, `epoch`, `typ="access"`, `jti`,
    `iat`, `exp`, `iss`, `aud`.

    Configure exactly one of:
    - `secret`: an HMAC secret of at least 32 bytes, used with HS256;
    - `private_key_pem` (+ optionally `public_key_pem`, which must match it): an RSA key of
      at least 2048 bits (RS256) or an Ed25519 key (EdDSA). The algorithm follows from
      the key type.

    Decoding accepts only the configured algorithm (so `alg: none` and HS256-signed-with-
    the-public-key tokens are refused), requires every claim above, and checks `exp`,
    `iat` (and `nbf`, if present) against the injected clock, not the wall clock, allowing
    `leeway` for clock skew between processes. Any failure raises `InvalidToken`; an
    expired token says so in its message, so that clients know to refresh.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        issuer: str,
        audience: str,
        access_ttl: timedelta,
        secret: str | bytes | None = None,
        private_key_pem: str | bytes | None = None,
        public_key_pem: str | bytes | None = None,
        leeway: timedelta = timedelta(seconds=5),
    ) -> None:
        if not issuer or not audience:
            raise ValueError("JWT issuer and audience must be non-empty strings")
        if access_ttl <= timedelta(0):
            raise ValueError(f"access token lifetime must be positive, got {access_ttl}")
        if leeway < timedelta(0):
            raise ValueError(f"JWT leeway cannot be negative, got {leeway}")
        self._clock = clock
        self._issuer = issuer
        self._audience = audience
        self._ttl_seconds = math.ceil(access_ttl.total_seconds())
        self._leeway_seconds = leeway.total_seconds()
        if (secret is None) == (private_key_pem is None):
            raise ValueError(
                "configure JWT signing with either a secret (HS256) or a private key "
                "(RS256/EdDSA), not both and not neither"
            )
        if secret is not None:
            if public_key_pem is not None:
                raise ValueError("a JWT public key makes no sense with an HS256 secret")
            signing_key = _hmac_secret(secret)
            self._algorithm = "HS256"
            self._signing_key: Any = signing_key
            self._verifying_key: Any = signing_key
        else:
            assert private_key_pem is not None
            private_key = _load_private_key(private_key_pem)
            self._algorithm = _algorithm_for(private_key)
            self._signing_key = private_key
            self._verifying_key = _matching_public_key(private_key, public_key_pem)

    @property
    def algorithm(self) -> str:
        return self._algorithm

    def issue_access_token(self, *, subject: str, role: str, epoch: int = 0) -> IssuedToken:
        issued_at = math.floor(self._clock.now().timestamp())
        expires_at = issued_at + self._ttl_seconds
        token_id = uuid.uuid4().hex
        claims = {
            "sub": subject,
            "role": role,
            EPOCH_CLAIM: epoch,
            "typ": ACCESS_TOKEN_TYPE,
            "jti": token_id,
            "iat": issued_at,
            "exp": expires_at,
            "iss": self._issuer,
            "aud": self._audience,
        }
        token = jwt.encode(claims, self._signing_key, algorithm=self._algorithm)
        return IssuedToken(token=token, token_id=token_id, expires_at=_utc(expires_at))

    def decode_access_token(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": _REQUIRED_CLAIMS,
                    "strict_aud": True,
                    # Time is checked below against the injected clock.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken() from exc
        return self._checked_claims(claims)

    def _checked_claims(self, claims: dict[str, Any]) -> AccessClaims:
        if claims.get("typ") != ACCESS_TOKEN_TYPE:
            raise InvalidToken()
        subject, role, token_id = claims["sub"], claims.get("role"), claims["jti"]
        if not isinstance(subject, str) or not subject or not isinstance(role, str):
            raise InvalidToken()
        issued_at, expires_at = _timestamp(claims["iat"]), _timestamp(claims["exp"])
        now = self._clock.now().timestamp()
        if expires_at <= now - self._leeway_seconds:
            raise InvalidToken("token expired")
        if issued_at > now + self._leeway_seconds or expires_at <= issued_at:
            raise InvalidToken()
        if "nbf" in claims and _timestamp(claims["nbf"]) > now + self._leeway_seconds:
            raise InvalidToken()
        epoch = claims.get(EPOCH_CLAIM, 0)
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise InvalidToken()
        return AccessClaims(
            subject=subject,
            role=role,
            token_id=token_id,
            issued_at=_utc(issued_at),
            expires_at=_utc(expires_at),
            epoch=epoch,
        )


def _timestamp(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken()
    try:
        timestamp = float(value)
    except OverflowError:  # an integer beyond any float
        raise InvalidToken() from None
    if not math.isfinite(timestamp):
        raise InvalidToken()
    return timestamp


def _utc(timestamp: float) -> datetime:
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidToken() from None


def _hmac_secret(secret: str | bytes) -> bytes:
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(
            f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes, got {len(raw)}; "
            'generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    return raw


def _load_private_key(pem: str | bytes) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    raw = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"the JWT private key is not an unencrypted PEM key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError(
            f"unsupported JWT key type {type(key).__name__}: use RSA (RS256) or Ed25519 (EdDSA)"
        )
    return key


def _algorithm_for(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if key.key_size < MIN_RSA_BITS:
        raise ValueError(
            f"the JWT RSA key must have at least {MIN_RSA_BITS} bits, got {key.key_size}"
        )
    return "RS256"


def _matching_public_key(
    private_key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, public_key_pem: str | bytes | None
) -> Any:
    derived = private_key.public_key()
    if public_key_pem is None:
        return derived
    raw = public_key_pem.encode("ascii") if isinstance(public_key_pem, str) else public_key_pem
    try:
        given = serialization.load_pem_public_key(raw)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"the JWT public key is not a PEM public key: {exc}") from None
    if _public_bytes(given) != _public_bytes(derived):
        raise ValueError("the JWT public key does not belong to the private key")
    return given


def _public_bytes(key: Any) -> bytes:
    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
