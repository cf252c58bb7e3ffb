import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from pillpal_shared.tokens import InvalidToken, TokenSigner, TokenVerifier, generate_keypair


@pytest.fixture(scope="module")
def pair():
    return generate_keypair()


def signer(private, ttl=3600, iss="pillpal-auth", aud="pillpal"):
    return TokenSigner(private, iss, aud, timedelta(seconds=ttl))


def test_round_trip(pair):
    private, public = pair
    claims = TokenVerifier(public, "pillpal-auth", "pillpal").verify(signer(private).issue(42))
    assert claims.user_id == 42


def test_token_signed_with_another_key_is_refused(pair):
    other_private, _ = generate_keypair()
    with pytest.raises(InvalidToken):
        TokenVerifier(pair[1], "pillpal-auth", "pillpal").verify(signer(other_private).issue(1))


def test_alg_none_is_refused(pair):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
    now = int(datetime.now(UTC).timestamp())
    body = {"sub": "1", "iss": "pillpal-auth", "aud": "pillpal", "iat": now, "exp": now + 60, "jti": "x"}
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=")
    token = (header + b"." + payload + b".").decode()
    with pytest.raises(InvalidToken):
        TokenVerifier(pair[1], "pillpal-auth", "pillpal").verify(token)


def test_hs256_signed_with_the_public_key_is_refused(pair):
    now = int(datetime.now(UTC).timestamp())
    body = {"sub": "1", "iss": "pillpal-auth", "aud": "pillpal", "iat": now, "exp": now + 60, "jti": "x"}
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=")
    import hashlib
    import hmac

    signature = hmac.new(pair[1].encode(), header + b"." + payload, hashlib.sha256).digest()
    token = b".".join([header, payload, base64.urlsafe_b64encode(signature).rstrip(b"=")]).decode()
    with pytest.raises(InvalidToken):
        TokenVerifier(pair[1], "pillpal-auth", "pillpal").verify(token)


def test_expired_token_is_refused(pair):
    token = signer(pair[0]).issue(1, now=datetime.now(UTC) - timedelta(hours=2))
    with pytest.raises(InvalidToken):
        TokenVerifier(pair[1], "pillpal-auth", "pillpal").verify(token)


@pytest.mark.parametrize(("iss", "aud"), [("someone-else", "pillpal"), ("pillpal-auth", "other-app")])
def test_wrong_issuer_or_audience_is_refused(pair, iss, aud):
    with pytest.raises(InvalidToken):
        TokenVerifier(pair[1], "pillpal-auth", "pillpal").verify(signer(pair[0], iss=iss, aud=aud).issue(1))


def test_missing_claims_are_refused(pair):
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pair[0].encode(), password=None)
    token = jwt.encode({"sub": "1", "iss": "pillpal-auth", "aud": "pillpal"}, key, algorithm="EdDSA")
    with pytest.raises(InvalidToken):
        TokenVerifier(pair[1], "pillpal-auth", "pillpal").verify(token)
