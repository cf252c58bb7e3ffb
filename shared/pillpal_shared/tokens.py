"""Access tokens: EdDSA (Ed25519) JWTs. Auth signs with the private key; every service verifies
with the public key. The algorithm is pinned and exp, iss, aud and sub are required."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ALGORITHM = "EdDSA"


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not ours."""


@dataclass(frozen=True)
class Claims:
    user_id: int
    token_id: str
    expires_at: datetime


class TokenVerifier:
    """Verifies access tokens. The app sends the same token on every call for as long as it lives,
    so each process remembers the claims of tokens it has verified (up to `cache_size`) and checks
    only their expiry when the very same token comes back."""

    def __init__(self, public_key_pem: str, issuer: str, audience: str, *, cache_size: int = 4096) -> None:
        self._key = serialization.load_pem_public_key(public_key_pem.encode())
        self._issuer = issuer
        self._audience = audience
        self._cache_size = cache_size
        self._verified: dict[str, Claims] = {}

    def verify(self, token: str) -> Claims:
        claims = self._verified.get(token)
        if claims is not None:
            if claims.expires_at > datetime.now(UTC):
                return claims
            self._verified.pop(token, None)
        claims = self._decode(token)
        if self._cache_size:
            if len(self._verified) >= self._cache_size:
                self._verified.clear()
            self._verified[token] = claims
        return claims

    def _decode(self, token: str) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._key,  # type: ignore[arg-type]
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
            return Claims(
                user_id=int(payload["sub"]),
                token_id=str(payload["jti"]),
                expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken(str(exc)) from exc


class TokenSigner:
    """Held by auth alone."""

    def __init__(self, private_key_pem: str, issuer: str, audience: str, ttl: timedelta) -> None:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the token signing key must be an Ed25519 private key")
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self.ttl = ttl

    def issue(self, user_id: int, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        payload = {
            "sub": str(user_id),
            "iss": self._issuer,
            "aud": self._audience,
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM)


def generate_keypair() -> tuple[str, str]:
    """A new Ed25519 key pair as (private PEM, public PEM): for `make run`'s dev keys and for tests."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
