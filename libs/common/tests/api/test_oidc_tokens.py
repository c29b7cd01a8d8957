"""Tokens from a city's OpenID Connect provider: verified against its JWKS, served here by a real HTTP server
on 127.0.0.1, and mapped to a gridgov principal by settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from gridgov_common import auth
from gridgov_common.auth import ROLES, Authenticator, Principal, mint_token
from gridgov_common.deps import require
from gridgov_common.settings import CommonSettings
from gridgov_common.web import install_error_handlers
from tests.support.oidc import AUDIENCE, FakeOidcProvider, SigningKey

SECRET = "oidc-test-secret-of-this-deployment-0123456789"
ROLE_MAP = {"water-dispatchers": "dept_dispatcher", "grid-workers": "grid_worker", "city-ops": "command_centre",
            "it-admins": "admin"}


class Clock:
    """A monotonic clock the test moves by hand, for the key cache's TTL and refetch interval."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def provider():
    p = FakeOidcProvider().start()
    yield p
    p.stop()


def settings_for(provider: FakeOidcProvider, tmp_path, **overrides) -> CommonSettings:
    values = dict(data_dir=tmp_path, jwt_secret=SECRET, log_json=False, oidc_issuer=provider.issuer,
                  oidc_audience=AUDIENCE, oidc_jwks_uri=provider.jwks_uri, oidc_role_map=ROLE_MAP,
                  oidc_leeway_s=0, oidc_jwks_ttl_s=300, oidc_jwks_min_refetch_s=30)
    values.update(overrides)
    return CommonSettings(**values)


class Api:
    """A minimal service: one endpoint any role may call, answering the caller's principal."""

    def __init__(self, common: CommonSettings):
        app = FastAPI()
        install_error_handlers(app)
        app.state.jwt_secret = SECRET
        app.state.authenticator = Authenticator.from_settings(common)
        self.clock = Clock()
        if app.state.authenticator.oidc is not None:
            app.state.authenticator.oidc.jwks.clock = self.clock

        @app.get("/whoami")
        async def whoami(principal: Principal = Depends(require(*ROLES))) -> dict:
            return principal.model_dump()

        self.app = app
        self.client = TestClient(app)

    @property
    def jwks(self) -> auth.JwksCache:
        return self.app.state.authenticator.oidc.jwks

    def call(self, token: str):
        return self.client.get("/whoami", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def api(provider, tmp_path) -> Api:
    return Api(settings_for(provider, tmp_path))


def refusal(resp, status: int = 401) -> str:
    """The reason of a refusal in the error format, after checking its status and field."""
    assert resp.status_code == status, resp.text
    (detail,) = resp.json()["error"]["details"]
    assert detail["field"] == "Authorization"
    return detail["reason"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, signature: bytes = b"") -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(signature)}"


def forge_hs256(header: dict, claims: dict, secret: bytes) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


# --- accepted ----------------------------------------------------------------------------------------------

def test_accept_rs256_token_maps_role_and_department(provider, api):
    resp = api.call(provider.token(provider.keys[0]))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"sub": "u-1001", "role": "dept_dispatcher", "department": "water", "grid": None,
                           "name": None}


def test_accept_es256_token_maps_role_and_grid(provider, api):
    es256 = provider.keys[1]
    assert es256.alg == "ES256"
    resp = api.call(provider.token(es256, roles=["staff", "grid-workers"], department=None, grid="441900001001001"))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"sub": "u-1001", "role": "grid_worker", "department": None, "grid": "441900001001001",
                           "name": None}


def test_map_claims_from_configured_subject_role_and_scope_claims(provider, tmp_path):
    api = Api(settings_for(provider, tmp_path, oidc_subject_claim="preferred_username",
                           oidc_role_claim="realm_access.roles", oidc_role_map={"ops": "command_centre"},
                           oidc_department_claim="dept", oidc_grid_claim="gridCode"))
    token = provider.token(roles=None, department=None, realm_access={"roles": ["offline_access", "ops"]},
                           dept="urban-management", gridCode="441900001")
    resp = api.call(token)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"sub": "li.wei", "role": "command_centre", "department": "urban-management",
                           "grid": "441900001", "name": None}


def test_map_role_takes_first_role_map_entry_the_token_carries(provider, api):
    # ROLE_MAP lists water-dispatchers before it-admins: that order, not the claim's, decides.
    resp = api.call(provider.token(roles=["it-admins", "water-dispatchers"]))
    assert resp.json()["role"] == "dept_dispatcher"


def test_map_role_without_role_map_takes_gridgov_role_names(provider, tmp_path):
    api = Api(settings_for(provider, tmp_path, oidc_role_map={}, oidc_role_claim="gridgov_role"))
    resp = api.call(provider.token(roles=None, gridgov_role="command_centre"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["role"] == "command_centre"


def test_discover_jwks_uri_from_issuer_configuration(provider, tmp_path):
    api = Api(settings_for(provider, tmp_path, oidc_jwks_uri=None))
    assert api.call(provider.token()).status_code == 200
    assert provider.requests == ["/.well-known/openid-configuration", "/jwks.json"]


def test_display_name_comes_from_the_name_claim_or_the_configured_one(provider, tmp_path, api):
    assert api.call(provider.token(name="  王敏 ")).json()["name"] == "王敏"
    nick = Api(settings_for(provider, tmp_path, oidc_name_claim="profile.displayName"))
    token = provider.token(name="Wang Min", profile={"displayName": "王敏（水务）"})
    assert nick.call(token).json()["name"] == "王敏（水务）"


@pytest.mark.parametrize("odd", ["", "   ", "王\x00敏", "王\n敏", "名" * 65, ["王敏"], 42, {"zh": "王敏"}])
def test_odd_display_name_costs_the_name_not_the_sign_in(provider, api, odd):
    resp = api.call(provider.token(name=odd))
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] is None and resp.json()["role"] == "dept_dispatcher"


def test_local_token_carries_the_name_it_was_minted_with(api):
    assert api.call(mint_token(SECRET, sub="cc-1", role="command_centre", name="陈伟")).json()["name"] == "陈伟"
    assert api.call(mint_token(SECRET, sub="cc-1", role="command_centre")).json()["name"] is None


def test_accept_local_hs256_token_alongside_provider_tokens(provider, api):
    local = mint_token(SECRET, sub="cc-1", role="command_centre")
    assert api.call(local).json()["role"] == "command_centre"
    assert api.call(provider.token()).json()["role"] == "dept_dispatcher"


# --- refused -------------------------------------------------------------------------------------------------

def test_token_of_other_issuer_is_401(provider, api):
    reason = refusal(api.call(provider.token(iss="https://idp.other-city.example")))
    assert "issuer 'https://idp.other-city.example' is not trusted" in reason


def test_token_for_other_audience_is_401(provider, api):
    assert "audience" in refusal(api.call(provider.token(aud="another-city-app")))


def test_token_without_audience_is_401(provider, api):
    assert '"aud"' in refusal(api.call(provider.token(aud=None)))


def test_expired_token_is_401(provider, api):
    now = int(time.time())
    assert refusal(api.call(provider.token(iat=now - 900, nbf=now - 900, exp=now - 60))) == "token expired"


def test_expired_token_within_leeway_is_accepted(provider, tmp_path):
    api = Api(settings_for(provider, tmp_path, oidc_leeway_s=120))
    assert api.call(provider.token(exp=int(time.time()) - 60)).status_code == 200


def test_not_yet_valid_token_is_401(provider, api):
    reason = refusal(api.call(provider.token(nbf=int(time.time()) + 600, exp=int(time.time()) + 1200)))
    assert reason.startswith("token not yet valid")


def test_token_of_unknown_kid_is_401_after_one_refetch(provider, api):
    assert api.call(provider.token()).status_code == 200
    api.clock.now += 31  # past the refetch interval: an unknown kid may refetch once
    stranger = SigningKey("RS256", kid="not-of-this-provider")
    reason = refusal(api.call(provider.token(stranger)))
    assert "unknown signing key id (kid) 'not-of-this-provider'" in reason
    assert provider.jwks_requests() == 2


def test_alg_none_token_is_401(provider, api):
    token = forge({"alg": "none", "typ": "JWT", "kid": provider.keys[0].kid}, provider.claims())
    assert "algorithm 'none' is not allowed" in refusal(api.call(token))


def test_hs256_token_signed_with_provider_public_key_is_401(provider, api):
    # The classic alg confusion: the RSA public key (public by definition) used as an HMAC secret.
    rsa_key = provider.keys[0]
    token = forge_hs256({"alg": "HS256", "typ": "JWT", "kid": rsa_key.kid}, provider.claims(roles=["it-admins"]),
                        rsa_key.public_pem())
    assert "algorithm 'HS256' is not allowed" in refusal(api.call(token))
    # Nor does the gridgov issuer route it to the HS256 verifier, which only knows the local secret.
    token = forge_hs256({"alg": "HS256", "typ": "JWT"}, {**provider.claims(roles=None), "iss": "gridgov",
                                                          "role": "admin"}, rsa_key.public_pem())
    assert "Signature verification failed" in refusal(api.call(token))


def test_token_with_tampered_signature_is_401(provider, api):
    for key in provider.keys:
        head, body, signature = provider.token(key).split(".")
        raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
        raw[len(raw) // 2] ^= 0x01
        assert refusal(api.call(f"{head}.{body}.{b64(bytes(raw))}")) == "token signature does not verify"


def test_token_with_tampered_claims_is_401(provider, api):
    head, _body, signature = provider.token().split(".")
    body = b64(json.dumps(provider.claims(roles=["it-admins"])).encode())
    assert refusal(api.call(f"{head}.{body}.{signature}")) == "token signature does not verify"


def test_token_signed_by_key_of_other_type_than_its_kid_is_401(provider, api):
    rsa_key, ec_key = provider.keys
    lying = SigningKey("ES256", kid=rsa_key.kid)  # claims the RSA key's kid, signs with an EC key
    assert "does not match its key" in refusal(api.call(provider.token(lying)))
    assert ec_key.kid != rsa_key.kid


def test_token_with_unmapped_role_is_403_naming_claim(provider, api):
    reason = refusal(api.call(provider.token(roles=["library-staff"])), 403)
    assert "token claim 'roles' maps to no gridgov role" in reason and "library-staff" in reason


def test_dispatcher_token_without_department_is_403_naming_claim(provider, api):
    reason = refusal(api.call(provider.token(department=None)), 403)
    assert reason.startswith("token claim 'department' is missing")


def test_token_with_non_text_department_is_403_naming_claim(provider, api):
    reason = refusal(api.call(provider.token(department={"id": 7})), 403)
    assert "token claim 'department' must be one printable string" in reason


def test_local_token_is_401_when_local_tokens_are_off(provider, tmp_path):
    api = Api(settings_for(provider, tmp_path, oidc_accept_local_tokens=False))
    reason = refusal(api.call(mint_token(SECRET, sub="admin-1", role="admin")))
    assert reason.startswith("tokens issued by gridgov are not accepted here")
    assert api.call(provider.token()).status_code == 200


def test_provider_token_is_401_while_oidc_is_off(provider, tmp_path):
    api = Api(CommonSettings(data_dir=tmp_path, jwt_secret=SECRET))
    assert api.app.state.authenticator.oidc is None
    assert refusal(api.call(provider.token())).startswith("invalid token")
    assert provider.requests == []


# --- keys: cache, rotation, rate limit, outage -----------------------------------------------------------------

def test_verify_token_of_known_key_does_no_io(provider, api, monkeypatch):
    assert api.call(provider.token()).status_code == 200
    monkeypatch.setattr(auth.JwksCache, "key", lambda *_: pytest.fail("fetched for a known key"))
    for sub in ("u-2", "u-3"):  # new tokens, so not from the verified-token cache
        assert api.call(provider.token(sub=sub)).json()["sub"] == sub
    assert api.call(provider.token(provider.keys[1], sub="u-4")).status_code == 200
    assert provider.jwks_requests() == 1


def test_rotate_provider_keys_verifies_new_kid_after_one_refetch(provider, api):
    assert api.call(provider.token()).status_code == 200
    new = provider.rotate("ES256")
    api.clock.now += 31
    resp = api.call(provider.token(new, sub="u-rotated"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["sub"] == "u-rotated"
    assert provider.jwks_requests() == 2


def test_refetch_for_unknown_kids_is_rate_limited(provider, api):
    assert api.call(provider.token()).status_code == 200
    api.clock.now += 31
    for _ in range(50):  # a flood of random kids: one refetch, then refusals from memory
        token = provider.token(headers={"kid": uuid.uuid4().hex})
        assert "unknown signing key id" in refusal(api.call(token))
    assert provider.jwks_requests() == 2
    api.clock.now += 31
    assert refusal(api.call(provider.token(headers={"kid": "one-more"}))).startswith("unknown signing key id")
    assert provider.jwks_requests() == 3


def test_token_of_new_kid_waits_for_refetch_under_way_instead_of_401(provider, api):
    assert api.call(provider.token()).status_code == 200
    new = provider.rotate()
    provider.delay_s = 0.5
    api.clock.now += 31
    first = threading.Thread(target=api.jwks.key, args=(new.kid,))
    first.start()
    deadline = time.monotonic() + 5
    while provider.jwks_requests() < 2:  # the refetch for the new kid is under way
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert api.jwks.peek(new.kid) is None  # not refused: the caller waits for the fetch (in a worker thread)
    assert api.call(provider.token(new)).status_code == 200
    first.join()
    assert provider.jwks_requests() == 2


def test_provider_down_token_of_cached_key_still_verifies(provider, api):
    assert api.call(provider.token()).status_code == 200
    provider.stop()
    assert api.call(provider.token(sub="u-2")).status_code == 200
    api.clock.now += 301  # the key set has aged past its TTL: a refetch is tried, fails, the key still counts
    assert api.call(provider.token(sub="u-3")).json()["sub"] == "u-3"
    assert api.jwks.fetches == 2
    assert api.call(provider.token(provider.keys[1], sub="u-4")).status_code == 200  # no new attempt yet
    assert api.jwks.fetches == 2


def test_provider_down_unknown_key_is_503(provider, api):
    assert api.call(provider.token()).status_code == 200
    provider.stop()
    api.clock.now += 31
    new = SigningKey("RS256")
    resp = api.call(provider.token(new))
    assert resp.status_code == 503, resp.text
    assert resp.json()["error"]["code"] == "unavailable"
    error = resp.json()["error"]
    assert "identity provider cannot be reached" in error["message"]
    assert error["details"][0]["field"] == "Authorization"
    assert str(provider.port) not in resp.text  # the provider's address stays in the log
    assert int(resp.headers["Retry-After"]) >= 1
    # Within the refetch interval the outage is answered from memory, still 503 and not 401.
    assert api.call(provider.token(new)).status_code == 503
    assert api.jwks.fetches == 2


def test_provider_down_before_first_fetch_is_503(provider, api):
    token = provider.token()
    provider.stop()
    resp = api.call(token)
    assert resp.status_code == 503, resp.text
    assert resp.json()["error"]["code"] == "unavailable"


def test_provider_back_up_verifies_again(provider, api):
    token = provider.token()
    port = provider.port
    provider.stop()
    assert api.call(token).status_code == 503
    provider.start(port)
    api.clock.now += 31
    assert api.call(token).status_code == 200


def test_cached_provider_token_after_expiry_is_refused(provider, api):
    # Three whole seconds of life: `exp` is in whole seconds, and a busy machine may take a while to answer.
    exp = int(time.time()) + 3
    token = provider.token(exp=exp)
    assert api.call(token).status_code == 200  # now verified and cached
    time.sleep(max(0.0, exp - time.time()) + 0.2)  # leeway is 0 in these tests
    assert refusal(api.call(token)) == "token expired"


# --- settings ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("algorithms", ["none", "HS256", "RS256,HS256", ""])
def test_settings_refuse_symmetric_or_none_algorithms(algorithms, tmp_path):
    with pytest.raises(ValidationError, match="GRIDGOV_OIDC_ALGORITHMS"):
        CommonSettings(data_dir=tmp_path, oidc_issuer="https://idp.example", oidc_audience="a",
                       oidc_algorithms=algorithms)


def test_settings_require_audience_with_issuer(tmp_path):
    with pytest.raises(ValidationError, match="GRIDGOV_OIDC_AUDIENCE is required"):
        CommonSettings(data_dir=tmp_path, oidc_issuer="https://idp.example")


def test_settings_refuse_role_map_to_unknown_role(tmp_path):
    with pytest.raises(ValidationError, match="unknown roles superuser"):
        CommonSettings(data_dir=tmp_path, oidc_role_map={"root": "superuser"})


def test_settings_read_oidc_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDGOV_OIDC_ISSUER", "https://idp.city.example/realms/gov")
    monkeypatch.setenv("GRIDGOV_OIDC_AUDIENCE", "gridgov")
    monkeypatch.setenv("GRIDGOV_OIDC_ROLE_MAP", '{"dispatchers": "dept_dispatcher"}')
    monkeypatch.setenv("GRIDGOV_OIDC_ALGORITHMS", "ES256, RS256")
    common = CommonSettings(data_dir=tmp_path)
    assert common.oidc_role_map == {"dispatchers": "dept_dispatcher"}
    assert common.oidc_algorithm_list == ["ES256", "RS256"]
