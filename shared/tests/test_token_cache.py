"""TokenVerifier remembers verified tokens: the same token is not verified twice, an expired one is
refused even when remembered, and a forged variant of a remembered token is still refused."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from pillpal_shared.tokens import InvalidToken, TokenSigner, TokenVerifier, generate_keypair


@pytest.fixture(scope="module")
def pair():
    return generate_keypair()


def test_a_remembered_token_skips_the_signature_check(pair, monkeypatch):
    private, public = pair
    verifier = TokenVerifier(public, "pillpal-auth", "pillpal")
    token = TokenSigner(private, "pillpal-auth", "pillpal", timedelta(hours=1)).issue(7)
    first = verifier.verify(token)
    monkeypatch.setattr(verifier, "_decode", lambda _t: pytest.fail("verified twice"))
    assert verifier.verify(token) is first


def test_a_remembered_token_is_refused_once_expired(pair):
    private, public = pair
    verifier = TokenVerifier(public, "pillpal-auth", "pillpal")
    signer = TokenSigner(private, "pillpal-auth", "pillpal", timedelta(seconds=10))
    token = signer.issue(7, now=datetime.now(UTC) - timedelta(seconds=9))  # expires in about a second
    assert verifier.verify(token).user_id == 7
    time.sleep(max(0.0, verifier.verify(token).expires_at.timestamp() - time.time()) + 0.05)
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_a_tampered_copy_of_a_remembered_token_is_refused(pair):
    private, public = pair
    verifier = TokenVerifier(public, "pillpal-auth", "pillpal")
    token = TokenSigner(private, "pillpal-auth", "pillpal", timedelta(hours=1)).issue(7)
    verifier.verify(token)
    header, payload, signature = token.split(".")
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{payload}.{signature[:-4]}AAAA")


def test_the_memory_is_bounded(pair):
    private, public = pair
    verifier = TokenVerifier(public, "pillpal-auth", "pillpal", cache_size=3)
    signer = TokenSigner(private, "pillpal-auth", "pillpal", timedelta(hours=1))
    for user_id in range(10):
        verifier.verify(signer.issue(user_id))
    assert len(verifier._verified) <= 3
