"""A local stand-in for the Bot Connector service's token issuer: OpenID metadata, a JWKS and
signed channel tokens, served on a loopback port with no network.

It follows the public Bot Framework documentation "Authentication with the Bot Connector API"
(learn.microsoft.com, rest-api/bot-framework-rest-connector-authentication), the part about the
token that the Bot Connector service sends to the bot ("Authenticate requests from the Bot
Connector service to your bot"):

- the OpenID metadata document (``/.well-known/openid-configuration``) names the ``issuer``,
  the ``jwks_uri`` where the signing keys are, and ``id_token_signing_alg_values_supported``;
- each key in the JWKS has a ``kid`` and ``endorsements``, the channel ids the key may sign
  for (here ``msteams``);
- the token is an RS256 JWT in ``Authorization: Bearer …`` with ``iss``
  (https://api.botframework.com), ``aud`` (the bot's Microsoft App ID), ``exp``/``nbf`` and
  the ``serviceurl`` claim, which must equal the activity's ``serviceUrl``.

botbuilder fetches the metadata and the keys with the synchronous ``requests`` library from
inside the event loop (the bot now fetches them itself over aiohttp, bot/openid_keys.py), so
the issuer runs on ``http.server`` in a thread of its own, never on the test's asyncio loop;
``keys_delay`` makes its JWKS slow. Every issuer serves its metadata under a fresh random path, because
botbuilder caches metadata per URL for the whole process
(``JwtTokenExtractor.metadataCache``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
METADATA_PATH = "/.well-known/openid-configuration"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return _b64url(json.dumps(value, separators=(",", ":")).encode())

    return f"{part(header)}.{part(payload)}"


class OpenIdIssuer:
    """Serves ``<base>/<random>/.well-known/openid-configuration`` and ``…/keys`` and signs
    tokens with a key published in that JWKS. ``requests`` counts the requests served."""

    def __init__(
        self, issuer: str = BOT_FRAMEWORK_ISSUER, endorsements: tuple[str, ...] = ("msteams",)
    ) -> None:
        self.issuer = issuer
        self.endorsements = list(endorsements)
        self.key = new_rsa_key()
        self.kid = f"test-{uuid.uuid4().hex[:12]}"
        self.more_keys: list[tuple[str, rsa.RSAPrivateKey, list[str]]] = []
        self.requests: list[str] = []
        #: Seconds the JWKS takes to answer: a slow identity endpoint.
        self.keys_delay = 0.0
        self._prefix = f"/{uuid.uuid4().hex}"
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- the HTTP side -----------------------------------------------------------------

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}{self._prefix}{METADATA_PATH}"

    @property
    def jwks_uri(self) -> str:
        return f"{self.base_url}{self._prefix}/keys"

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.base_url}{self._prefix}/authorize",
            "jwks_uri": self.jwks_uri,
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    def publish_key(self, endorsements: list[str]) -> tuple[str, rsa.RSAPrivateKey]:
        """Publish one more signing key in the JWKS, endorsed for ``endorsements`` only."""
        kid, key = f"test-{uuid.uuid4().hex[:12]}", new_rsa_key()
        self.more_keys.append((kid, key, endorsements))
        return kid, key

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key, endorsements in [
            (self.kid, self.key, self.endorsements),
            *self.more_keys,
        ]:
            public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            public.update(kid=kid, kty="RSA", use="sig", endorsements=endorsements)
            keys.append(public)
        return {"keys": keys}

    def start(self) -> None:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                issuer.requests.append(self.path)
                if self.path == issuer._prefix + METADATA_PATH:
                    self._json(issuer.metadata())
                elif self.path == issuer._prefix + "/keys":
                    time.sleep(issuer.keys_delay)  # this server's own thread, not the bot's
                    self._json(issuer.jwks())
                else:
                    self.send_error(404)

            def _json(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="openid-issuer",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # --- tokens ------------------------------------------------------------------------

    def claims(self, app_id: str, service_url: str, **overrides: Any) -> dict[str, Any]:
        """The claims of a channel token for ``app_id`` about ``service_url``; an override of
        None drops the claim."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(
        self,
        claims: dict[str, Any],
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        algorithm: str = "RS256",
    ) -> str:
        """An RS* token; by default with the published key and its kid."""
        return jwt.encode(
            claims, key or self.key, algorithm=algorithm, headers={"kid": kid or self.kid}
        )

    def unsigned_token(self, claims: dict[str, Any]) -> str:
        """``alg: none``: no signature at all."""
        return _unsigned({"alg": "none", "typ": "JWT", "kid": self.kid}, claims) + "."

    def hs256_with_public_key(self, claims: dict[str, Any]) -> str:
        """The algorithm-confusion attack: HS256 with the published public key as the HMAC
        secret (PyJWT refuses to make one, so it is built by hand)."""
        secret = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": self.kid}, claims)
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64url(signature)}"
