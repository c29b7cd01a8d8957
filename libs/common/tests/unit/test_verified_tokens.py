"""The cache of verified bearer tokens: a token is verified once, never trusted past its expiry."""

import time

import pytest

from gridgov_common import auth
from gridgov_common.auth import VerifiedTokens, mint_token
from gridgov_common.errors import Unauthenticated

SECRET = "s3cret-long-enough-for-hs256-tests-0123456789"


def test_decode_cached_token_returns_its_principal_without_verifying_again(monkeypatch):
    cache = VerifiedTokens()
    token = mint_token(SECRET, sub="gw-1", role="grid_worker", grid="441900001001001")
    assert cache.decode(SECRET, token).sub == "gw-1"
    monkeypatch.setattr(auth.jwt, "decode", lambda *a, **k: pytest.fail("verified twice"))
    again = cache.decode(SECRET, token)
    assert (again.sub, again.role, again.grid) == ("gw-1", "grid_worker", "441900001001001")


def test_decode_cached_token_after_expiry_is_refused():
    cache = VerifiedTokens()
    token = mint_token(SECRET, sub="gw-1", role="grid_worker", ttl_seconds=1)
    cache.decode(SECRET, token)
    time.sleep(1.1)
    with pytest.raises(Unauthenticated) as refused:
        cache.decode(SECRET, token)
    assert refused.value.details[0].reason == "token expired"


def test_decode_token_under_other_secret_is_refused_even_if_cached():
    cache = VerifiedTokens()
    token = mint_token(SECRET, sub="gw-1", role="grid_worker")
    cache.decode(SECRET, token)
    with pytest.raises(Unauthenticated):
        cache.decode("another-secret-of-another-deployment-0123456789", token)


def test_decode_bad_token_is_refused_every_time():
    cache = VerifiedTokens()
    forged = mint_token("not-the-secret-of-this-deployment-0123456789", sub="gw-1", role="admin")
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            cache.decode(SECRET, forged)


def test_decode_many_tokens_keeps_the_cache_bounded():
    cache = VerifiedTokens(size=3)
    tokens = [mint_token(SECRET, sub=f"gw-{i}", role="grid_worker") for i in range(5)]
    for token in tokens:
        cache.decode(SECRET, token)
    assert len(cache._entries) == 3
