"""A city's OpenID Connect provider, played by the test: a real HTTP server on 127.0.0.1 serving a discovery
document and a JWKS of keys generated here, and signing tokens with them.

Its keys can be rotated, it can be taken down (connections refused), and it counts the requests it saw, so
tests can prove the key cache, the refetch rate limit and the outage answers.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "gridgov-api"


class SigningKey:
    """A key pair the provider signs with, and its public JWK."""

    def __init__(self, alg: str = "RS256", kid: str | None = None):
        self.alg = alg
        self.kid = kid or f"{alg.lower()}-{uuid.uuid4().hex[:8]}"
        if alg.startswith("RS"):
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            jwk = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk: dict[str, Any] = {**jwk, "kid": self.kid, "use": "sig", "alg": alg}

    def public_pem(self) -> bytes:
        """The public key as PEM, what an attacker can always get."""
        return self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)


class FakeOidcProvider:
    """The provider: ``start()`` serves it, ``token(...)`` signs one of its tokens."""

    def __init__(self, keys: list[SigningKey] | None = None):
        self.keys = keys or [SigningKey("RS256"), SigningKey("ES256")]
        self.requests: list[str] = []
        self.delay_s = 0.0  # how long the key set takes to answer (a slow provider)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    @property
    def issuer(self) -> str:
        """The issuer URL (the server's base URL)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_uri(self) -> str:
        """Where the key set is served."""
        return f"{self.issuer}/jwks.json"

    def jwks_requests(self) -> int:
        """How many times the key set was fetched."""
        return sum(1 for path in self.requests if path == "/jwks.json")

    def start(self, port: int = 0) -> FakeOidcProvider:
        """Serve on 127.0.0.1 (a free port, or ``port`` to come back up where it was)."""
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                provider.requests.append(self.path)
                if self.path == "/jwks.json":
                    time.sleep(provider.delay_s)
                    body = {"keys": [k.jwk for k in provider.keys]}
                elif self.path == "/.well-known/openid-configuration":
                    body = {"issuer": provider.issuer, "jwks_uri": provider.jwks_uri,
                            "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Take the provider down: its port refuses connections."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def rotate(self, alg: str = "RS256") -> SigningKey:
        """Replace every key by a new one, as a provider's key rotation does; returns the new key."""
        new = SigningKey(alg)
        self.keys = [new]
        return new

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Valid claims for a dispatcher of the water department, with overrides (None removes a claim)."""
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": AUDIENCE, "sub": "u-1001", "preferred_username": "li.wei",
                  "iat": now, "nbf": now, "exp": now + 600, "roles": ["water-dispatchers"],
                  "department": "water"}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, key: SigningKey | None = None, *, headers: dict[str, Any] | None = None,
              **overrides: Any) -> str:
        """A token signed with ``key`` (the first key by default), its kid in the header."""
        key = key or self.keys[0]
        return jwt.encode(self.claims(**overrides), key.private, algorithm=key.alg,
                          headers={"kid": key.kid, **(headers or {})})
