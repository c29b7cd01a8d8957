"""Bearer tokens (JWT, HS256) carrying a role and the department or grid the caller acts for.

Roles: ``grid_worker`` (网格员, acts for a grid), ``dept_dispatcher`` (department dispatcher, acts for a
department), ``command_centre`` (指挥中心), ``admin``, ``citizen``, and one machine role, ``device_gateway`` (a
city's video platform or IoT gateway reporting alarms and heartbeats for its devices, and nothing else). Every
endpoint declares its roles with ``gridgov_common.deps`` (a named role group, or ``require(...)``): no or bad
token → 401, wrong role → 403.

Besides the HS256 tokens minted here (``iss == "gridgov"``), a city may plug in its OpenID Connect provider
(``GRIDGOV_OIDC_ISSUER``): its RS256/ES256 tokens are verified against its JWKS and their claims mapped to a
role, department and grid by settings. The provider's keys are cached, so verifying a token of a known key does
no I/O; a fetch (first use, expiry, an unknown ``kid``) runs in a worker thread, at most once per
``GRIDGOV_OIDC_JWKS_MIN_REFETCH_S``. A provider that is down answers 503 only where no cached key can decide.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

import httpx
import jwt
from anyio import to_thread
from jwt.algorithms import get_default_algorithms
from pydantic import BaseModel

from gridgov_common.errors import ErrorDetail, Forbidden, Unauthenticated, Unavailable
from gridgov_common.settings import CommonSettings

log = logging.getLogger(__name__)

Role = Literal["grid_worker", "dept_dispatcher", "command_centre", "admin", "citizen", "device_gateway"]
ROLES: tuple[str, ...] = get_args(Role)

# Role groups: each set of roles that endpoints and access rules admit, defined once and named by who it is
# (``gridgov_common.deps`` turns each into a typed dependency).
StaffRole = Literal["grid_worker", "dept_dispatcher", "command_centre", "admin"]
STAFF: tuple[str, ...] = get_args(StaffRole)  # the city's own people: every role but citizen
OFFICE_STAFF: tuple[str, ...] = ("dept_dispatcher", "command_centre", "admin")  # staff at a desk, not in a grid
CITY_WIDE: tuple[str, ...] = ("command_centre", "admin")  # those whose view is the whole city
REPORTERS: tuple[str, ...] = ("grid_worker", "citizen")  # those who file reports and their photos
ADMINS: tuple[str, ...] = ("admin",)
# Machines, not people: they may report alarms and heartbeats (DEVICE_GATEWAYS) and are admitted nowhere else, not
# even where any signed-in person is (PEOPLE).
MACHINES: tuple[str, ...] = ("device_gateway",)
PEOPLE: tuple[str, ...] = tuple(role for role in ROLES if role not in MACHINES)
DEVICE_GATEWAYS: tuple[str, ...] = ("device_gateway", "admin")  # who reports for devices (admin stands in for one)
ALGORITHM = "HS256"
ISSUER = "gridgov"


class Principal(BaseModel):
    """Who is calling: subject, role, and the department or grid they act for."""

    sub: str
    role: Role
    department: str | None = None
    grid: str | None = None
    # Who they are to people (the token's ``name``): what trails show beside the role. Never used for access.
    name: str | None = None

    @property
    def inbox_addresses(self) -> list[str]:
        """The inbox addresses this principal reads: themselves, and their department or grid."""
        addresses = [f"user:{self.sub}"]
        if self.department:
            addresses.append(f"department:{self.department}")
        if self.grid:
            addresses.append(f"grid:{self.grid}")
        if self.role == "command_centre":
            addresses.append("role:command_centre")
        return addresses


def load_secret(common: CommonSettings) -> str:
    """The signing secret: ``GRIDGOV_JWT_SECRET``, else one generated once per data directory (never in git)."""
    if common.jwt_secret:
        return common.jwt_secret
    path = Path(common.data_dir) / "jwt.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass  # another service created it first
    return path.read_text().strip()


def mint_token(secret: str, *, sub: str, role: str, department: str | None = None, grid: str | None = None,
               name: str | None = None, ttl_seconds: int = 12 * 3600) -> str:
    """Sign a token for a principal."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    now = datetime.now(UTC)
    claims = {"sub": sub, "role": role, "iss": ISSUER, "iat": now, "exp": now + timedelta(seconds=ttl_seconds)}
    if department:
        claims["department"] = department
    if grid:
        claims["grid"] = grid
    if name:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _verify(secret: str, token: str) -> tuple[Principal, float]:
    """The token's principal and expiry (epoch seconds); raises Unauthenticated with the reason."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["sub", "exp", "iss"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    if claims.get("role") not in ROLES:
        raise Unauthenticated("token has no valid role")
    principal = Principal(sub=claims["sub"], role=claims["role"], department=claims.get("department"),
                          grid=claims.get("grid"), name=display_name(claims.get("name")))
    return principal, float(claims["exp"])


def decode_token(secret: str, token: str) -> Principal:
    """Verify a token and return its principal; raises Unauthenticated with the reason."""
    return _verify(secret, token)[0]


class VerifiedTokens:
    """A bounded LRU of tokens already verified, each until its expiry: a client sends the same token with
    every request, and checking its signature and claims again each time is most of an endpoint's auth cost.

    Only tokens that passed verification are kept, so a bad token is checked (and refused) every time.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self._entries: OrderedDict[tuple[str, str], tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Principal | None:
        """A copy of the principal verified under ``key`` (trust domain, token), while it is still valid."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                if time.time() < hit[1]:  # PyJWT's rule: expired once now >= exp
                    self._entries.move_to_end(key)
                    return hit[0].model_copy()
                del self._entries[key]
        return None

    def put(self, key: tuple[str, str], principal: Principal, until: float) -> None:
        """Remember a verified token until ``until`` (epoch seconds), evicting the least recently used."""
        with self._lock:
            self._entries[key] = (principal, until)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def decode(self, secret: str, token: str) -> Principal:
        """``decode_token``, from the cache while the token has not expired."""
        key = (secret, token)
        hit = self.get(key)
        if hit is not None:
            return hit
        principal, expires = _verify(secret, token)
        self.put(key, principal, expires)
        return principal.model_copy()


_verified = VerifiedTokens()


# --- City identity: OpenID Connect ---------------------------------------------------------------------------

# Why a small cache of our own instead of ``jwt.PyJWKClient``: PyJWKClient forgets the whole key set when its
# lifespan ends and then fetches synchronously, so a provider outage past the lifespan refuses every token
# (we keep serving cached keys), its fetch blocks whatever thread calls it (ours runs in a worker thread, never
# on the event loop), and it has no notion of "the provider is down" vs "this kid is unknown" (503 vs 401).
# PyJWT still does the parsing (``PyJWKSet``) and the verification (``jwt.decode``).

_MAX_JWKS_BYTES = 1 << 20
_MAX_CLAIM_CHARS = 256
NAME_MAX = 64  # characters of a display name (a trail row's ``actor_name`` column holds as many)


class IdentityProviderUnavailable(Unavailable):
    """The city's identity provider cannot be reached and no cached key can verify the token (503)."""

    def __init__(self, retry_after: int):
        # The cause (the provider's address, the socket error) goes to the log, not to the caller.
        # Retry-After: when the next key-set fetch may be tried.
        super().__init__("the identity provider cannot be reached to verify this token; try again later",
                         retry_after=retry_after)
        self.details = [ErrorDetail("Authorization", "signing key not cached and the identity provider is "
                                                     "unreachable")]


class JwksCache:
    """The provider's signing keys by ``kid``, fetched from its JWKS and kept for ``ttl_s``.

    ``peek`` answers from memory (no I/O); ``key`` may fetch and so runs in a worker thread. Fetches, successful
    or not, happen at most once per ``min_refetch_s``: a flood of tokens with random ``kid``s costs the provider
    one request per interval. When a fetch fails, the keys already held keep verifying (an outage must not log
    everyone out); only a token whose key is not held is answered 503.
    """

    def __init__(self, *, issuer: str, jwks_uri: str | None, ttl_s: float, min_refetch_s: float,
                 timeout_s: float, clock: Callable[[], float] = time.monotonic):
        self.issuer = issuer
        self.jwks_uri = jwks_uri
        self.ttl_s = ttl_s
        self.min_refetch_s = min_refetch_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.fetches = 0  # attempts, for tests and the log
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._last_error: str | None = None
        self._fetching = False
        self._lock = threading.Lock()

    def _fetch_due(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.min_refetch_s

    def _fresh(self, now: float) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < self.ttl_s

    def _refuse(self, kid: str | None) -> None:
        if self._last_error is not None:
            wait = self.min_refetch_s - (self.clock() - (self._attempted_at or 0))
            raise IdentityProviderUnavailable(max(1, int(wait + 0.999)))
        raise Unauthenticated(f"unknown signing key id (kid) {kid!r}: not in the identity provider's key set")

    def peek(self, kid: str | None) -> jwt.PyJWK | None:
        """The key for ``kid`` from memory; None when a fetch is due first. Refuses (401/503) when the key is
        unknown and the last fetch was too recent to try again."""
        now = self.clock()
        key = self._keys.get(kid)
        due = self._fetch_due(now)
        if key is not None and (self._fresh(now) or not due):
            return key
        if key is None and not due and not self._fetching:
            self._refuse(kid)
        return None  # fetch, or wait for the fetch under way (it may bring a key just rotated in)

    def key(self, kid: str | None) -> jwt.PyJWK:
        """The key for ``kid``, fetching the key set first if it is due (blocking: call from a worker thread)."""
        held = self._keys.get(kid)
        # A known key whose set merely aged: if another thread is already refetching, use the key meanwhile.
        if not self._lock.acquire(blocking=held is None):
            return held  # type: ignore[return-value]
        try:
            now = self.clock()
            if self._fetch_due(now) and not (kid in self._keys and self._fresh(now)):
                self._attempted_at = now
                self.fetches += 1
                self._fetching = True
                try:
                    self._keys = self._fetch()
                    self._fetched_at = now
                    self._last_error = None
                except Exception as exc:  # noqa: BLE001 - any failure of the provider is an outage to us
                    self._last_error = str(exc) or type(exc).__name__
                    log.warning("identity provider key set fetch failed; keeping %d cached keys: %s",
                                len(self._keys), self._last_error)
                finally:
                    self._fetching = False
            key = self._keys.get(kid)
            if key is None:
                self._refuse(kid)
            return key  # type: ignore[return-value]
        finally:
            self._lock.release()

    def _get_json(self, url: str) -> dict[str, Any]:
        resp = httpx.get(url, timeout=self.timeout_s, follow_redirects=False, headers={"Accept": "application/json"})
        if resp.status_code != 200:
            raise RuntimeError(f"GET {url} answered {resp.status_code}")
        if len(resp.content) > _MAX_JWKS_BYTES:
            raise RuntimeError(f"GET {url} answered more than {_MAX_JWKS_BYTES} bytes")
        body = resp.json()
        if not isinstance(body, dict):
            raise RuntimeError(f"GET {url} did not answer a JSON object")
        return body

    def _discover(self) -> str:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        config = self._get_json(url)
        # OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was fetched for.
        if config.get("issuer") != self.issuer:
            raise RuntimeError(f"{url} names issuer {config.get('issuer')!r}, not {self.issuer!r}")
        uri = config.get("jwks_uri")
        if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
            raise RuntimeError(f"{url} has no http(s) jwks_uri")
        return uri

    def _fetch(self) -> dict[str | None, jwt.PyJWK]:
        uri = self.jwks_uri or self._discover()
        jwk_set = jwt.PyJWKSet.from_dict(self._get_json(uri))  # skips keys it cannot use
        signing = [k for k in jwk_set.keys if k.public_key_use in ("sig", None)]
        keys: dict[str | None, jwt.PyJWK] = {k.key_id: k for k in signing if k.key_id}
        if len(signing) == 1 and not signing[0].key_id:
            keys[None] = signing[0]  # a provider with one key may leave out kid; its tokens then carry none
        if not keys:
            raise RuntimeError(f"{uri} holds no usable signing key")
        if self.jwks_uri is None:
            self.jwks_uri = uri
        return keys


def _claim(claims: dict[str, Any], name: str) -> Any:
    """A claim by name, else by dotted path into nested objects (``realm_access.roles``)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _text_claim(claims: dict[str, Any], name: str, *, required: bool, why: str = "") -> str | None:
    """A claim holding one short printable string (a one-element list counts), or None when absent."""
    value = _claim(claims, name)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None or value == "":
        if required:
            raise Forbidden(f"token claim {name!r} is missing{why}", "Authorization")
        return None
    if (not isinstance(value, str) or len(value) > _MAX_CLAIM_CHARS or not value.isprintable()):
        raise Forbidden(f"token claim {name!r} must be one printable string of at most {_MAX_CLAIM_CHARS} "
                        f"characters", "Authorization")
    return value


def display_name(value: Any) -> str | None:
    """A token's display name as trails may show it: one printable string of 1–``NAME_MAX`` characters once
    trimmed, else None. A provider's odd name (too long, a control character, a list) costs the person only their
    name on the trail, never their sign-in."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if 0 < len(value) <= NAME_MAX and value.isprintable() else None


class OidcVerifier:
    """Verifies tokens of one OpenID Connect provider and maps their claims to a principal."""

    def __init__(self, common: CommonSettings, jwks: JwksCache | None = None):
        assert common.oidc_issuer and common.oidc_audience  # CommonSettings refuses an issuer without audience
        self.issuer = common.oidc_issuer
        self.audience = common.oidc_audience
        self.algorithms = common.oidc_algorithm_list
        self.leeway = common.oidc_leeway_s
        self.subject_claim = common.oidc_subject_claim
        self.role_claim = common.oidc_role_claim
        self.role_map = dict(common.oidc_role_map)
        self.department_claim = common.oidc_department_claim
        self.grid_claim = common.oidc_grid_claim
        self.name_claim = common.oidc_name_claim
        self.jwks = jwks or JwksCache(issuer=self.issuer, jwks_uri=common.oidc_jwks_uri,
                                      ttl_s=common.oidc_jwks_ttl_s, min_refetch_s=common.oidc_jwks_min_refetch_s,
                                      timeout_s=common.oidc_http_timeout_s)

    def check_header(self, header: dict[str, Any]) -> tuple[str, str | None]:
        """The token's algorithm and key id, once the algorithm is on the allow-list (no I/O)."""
        alg = header.get("alg")
        # The allow-list holds asymmetric algorithms only (CommonSettings refuses others), so "none" and the
        # HS256-with-the-public-key-as-secret confusion are refused here, before any key is looked at.
        if alg not in self.algorithms:
            raise Unauthenticated(f"token algorithm {alg!r} is not allowed; allowed: {', '.join(self.algorithms)}")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("token header kid must be a string")
        return alg, kid

    def verify(self, token: str, alg: str, key: jwt.PyJWK) -> tuple[Principal, float]:
        """The token's principal and expiry, its signature checked with ``key`` (no I/O)."""
        key_alg = key._jwk_data.get("alg")  # PyJWK keeps the JWK's declared "alg" only here
        if (key_alg is not None and key_alg != alg) or type(key.Algorithm) is not type(get_default_algorithms()[alg]):
            raise Unauthenticated(f"token algorithm {alg} does not match its key ({key_alg or key.key_type})")
        try:
            claims = jwt.decode(token, key.key, algorithms=[alg], audience=self.audience, issuer=self.issuer,
                                leeway=self.leeway, options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Unauthenticated(f"token not yet valid: {exc}") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthenticated(f"token audience is not {self.audience!r}") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthenticated(f"token issuer is not {self.issuer!r}") from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthenticated("token signature does not verify") from exc
        except jwt.PyJWTError as exc:  # InvalidKeyError too (an EC key of another curve) is no 500
            raise Unauthenticated(f"invalid token: {exc}") from exc
        return self.principal(claims), float(claims["exp"])

    def role(self, claims: dict[str, Any]) -> str:
        """The gridgov role the token's role claim maps to: the first entry of the map the token carries."""
        value = _claim(claims, self.role_claim)
        if isinstance(value, str):
            names = [value]
        elif isinstance(value, list):
            names = [v for v in value if isinstance(v, str)]
        else:
            names = []
        if self.role_map:
            for provider_name, role in self.role_map.items():
                if provider_name in names:
                    return role
        else:
            for name in names:
                if name in ROLES:
                    return name
        shown = json.dumps(names[:10], ensure_ascii=False)[:200]
        raise Forbidden(f"token claim {self.role_claim!r} maps to no gridgov role (it holds {shown}); "
                        f"see GRIDGOV_OIDC_ROLE_MAP", "Authorization")

    def principal(self, claims: dict[str, Any]) -> Principal:
        """The principal of verified claims; 403 naming the claim when the provider's claims do not fit."""
        role = self.role(claims)
        sub = _text_claim(claims, self.subject_claim, required=True)
        # A dispatcher or grid worker without their scope would fall through scope filters, so it is refused.
        department = _text_claim(claims, self.department_claim, required=role == "dept_dispatcher",
                                 why="; a dept_dispatcher acts for a department")
        grid = _text_claim(claims, self.grid_claim, required=role == "grid_worker",
                           why="; a grid_worker acts for a grid")
        return Principal(sub=sub, role=role, department=department, grid=grid,  # type: ignore[arg-type]
                         name=display_name(_claim(claims, self.name_claim)))


class Authenticator:
    """Every accepted kind of token behind one call: the HS256 tokens minted here and, with OIDC on, the
    provider's. Tokens are told apart by their ``iss`` (local ones say ``gridgov``), read before verification
    only to choose the verifier."""

    def __init__(self, oidc: OidcVerifier | None, *, accept_local: bool = True,
                 verified: VerifiedTokens | None = None):
        self.oidc = oidc
        self.accept_local = accept_local
        self.verified = verified or _verified
        # Cached principals are valid only under the trust configuration that verified them.
        self._domain = "\x00".join(["oidc", oidc.issuer, oidc.audience, str(accept_local)]) if oidc else ""

    @classmethod
    def from_settings(cls, common: CommonSettings) -> Authenticator:
        """The authenticator the settings describe: local tokens only while no OIDC issuer is set."""
        if not common.oidc_issuer:
            return cls(None)
        log.info("accepting OpenID Connect tokens from %s (audience %s)%s", common.oidc_issuer,
                 common.oidc_audience, "" if common.oidc_accept_local_tokens else "; local HS256 tokens refused")
        return cls(OidcVerifier(common), accept_local=common.oidc_accept_local_tokens)

    async def authenticate(self, secret: str, token: str) -> Principal:
        """The principal of a bearer token; 401 with the reason, 403 for claims that map to no principal,
        503 when the provider is needed and down."""
        if self.oidc is None:
            return self.verified.decode(secret, token)
        cache_key = (secret + self._domain, token)
        hit = self.verified.get(cache_key)
        if hit is not None:
            return hit
        try:
            header = jwt.get_unverified_header(token)
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        if issuer == ISSUER:
            if not self.accept_local:
                raise Unauthenticated("tokens issued by gridgov are not accepted here; "
                                      f"sign in with {self.oidc.issuer}")
            principal, until = _verify(secret, token)
        elif issuer == self.oidc.issuer:
            alg, kid = self.oidc.check_header(header)
            key = self.oidc.jwks.peek(kid)
            if key is None:
                key = await to_thread.run_sync(self.oidc.jwks.key, kid)
            principal, until = self.oidc.verify(token, alg, key)
            # Never trust a cached principal longer than the key set that verified it, so a key the provider
            # withdraws stops working within one TTL.
            until = min(until, time.time() + self.oidc.jwks.ttl_s)
        else:
            raise Unauthenticated(f"token issuer {issuer!r} is not trusted here; expected {self.oidc.issuer!r}")
        self.verified.put(cache_key, principal, until)
        return principal.model_copy()


# The request dependencies (the bearer scheme, ``require``, the app's authenticator) live in gridgov_common.deps,
# the one module of libs/common that reads ``app.state``; this module verifies tokens and knows no request.
