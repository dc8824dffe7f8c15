"""Checking the bearer tokens that reach the bot, with keys fetched off the event loop
(bot/openid_keys.py) and PyJWT's public API.

- ``ChannelTokens``: the token the Bot Connector service sends with each activity, checked as
  the Bot Framework documentation "Authenticate requests from the Bot Connector service to
  your bot" lists it (and as botbuilder's ChannelValidation does): ``Authorization: Bearer``,
  an RS256/384/512 signature by a key in the issuer's JWKS that is endorsed for the
  activity's channel, ``iss`` the channel's issuer, ``aud`` the bot's app id, ``exp`` and
  ``nbf`` within five minutes of now, and a ``serviceurl`` claim equal to the activity's
  ``serviceUrl``. Tokens of the emulator and of skills are refused: this bot uses neither.
- ``EntraTokens``: an Entra ID access token for the reminder endpoint, from a scheduler's
  managed identity: signed by the tenant's keys, ``iss`` the tenant (v2.0, or v1.0's
  sts.windows.net), ``aud`` the bot's app id (or ``api://<app id>``), and the caller's
  ``oid``, ``azp`` or ``appid`` among the allowed ones.
- ``SignInTokens``: the Teams SSO token of the overview tab, a user's delegated token for
  ``api://<domain>/<app id>`` from an allowed tenant (see the class).
"""

from __future__ import annotations

import json
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm

from bot.openid_keys import KeysUnavailable, OpenIdKeys

ALGORITHMS = ("RS256", "RS384", "RS512")
CLOCK_TOLERANCE = 5 * 60
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


class TokenRefused(Exception):
    """Why a token was not accepted (a short reason, never the token)."""


def bearer(header: str) -> str:
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token.strip():
        raise TokenRefused("no bearer token")
    return token.strip()


async def verified_claims(
    token: str, keys: OpenIdKeys, issuers: frozenset[str], audiences: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The claims of a token signed by one of ``keys`` (and the key), or TokenRefused."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRefused("not a JWT") from None
    algorithm, kid = header.get("alg"), header.get("kid")
    if algorithm not in ALGORITHMS or not isinstance(kid, str):
        raise TokenRefused("algorithm or key id not allowed")
    try:
        jwk = await keys.key(kid)
    except KeysUnavailable:
        raise TokenRefused("signing keys unavailable") from None
    if jwk is None:
        raise TokenRefused("unknown signing key")
    try:
        public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))
        claims = jwt.decode(
            token,
            public_key,  # type: ignore[arg-type]
            algorithms=[algorithm],
            audience=list(audiences),
            issuer=list(issuers),
            leeway=CLOCK_TOLERANCE,
            options={"require": ["exp", "iss", "aud"]},
        )
    except (jwt.PyJWTError, ValueError) as error:
        raise TokenRefused(type(error).__name__) from None
    return claims, jwk


class ChannelTokens:
    def __init__(self, keys: OpenIdKeys, app_id: str, issuer: str = "") -> None:
        self.keys = keys
        self.app_id = app_id
        self.issuer = issuer or BOT_FRAMEWORK_ISSUER

    async def claims(self, auth_header: str, channel_id: str, service_url: str) -> dict[str, Any]:
        token = bearer(auth_header)
        claims, jwk = await verified_claims(
            token, self.keys, frozenset({self.issuer}), frozenset({self.app_id})
        )
        endorsements = jwk.get("endorsements")
        if isinstance(endorsements, list) and endorsements and channel_id not in endorsements:
            raise TokenRefused("key not endorsed for the channel")
        caller = claims.get("appid") or claims.get("azp")
        if caller and caller != self.app_id:
            raise TokenRefused("a skill's token")
        if claims.get("serviceurl") != service_url:
            raise TokenRefused("serviceurl claim differs")
        return claims


class EntraTokens:
    def __init__(
        self, keys: OpenIdKeys, app_id: str, tenant_id: str, callers: frozenset[str]
    ) -> None:
        self.keys = keys
        self.audiences = frozenset({app_id, f"api://{app_id}"})
        self.tenant_id = tenant_id
        self.callers = callers

    def _issuers(self) -> frozenset[str]:
        found = {self.keys.issuer} if self.keys.issuer else set()
        if self.tenant_id:
            found |= {
                f"https://login.microsoftonline.com/{self.tenant_id}/v2.0",
                f"https://sts.windows.net/{self.tenant_id}/",
            }
        return frozenset(found)

    async def caller(self, auth_header: str) -> str:
        """The allowed caller's id, or TokenRefused."""
        token = bearer(auth_header)
        if not self.keys.keys:
            await self.keys.warm()  # the issuer named in the metadata is needed below
        claims, _ = await verified_claims(token, self.keys, self._issuers(), self.audiences)
        if self.tenant_id and claims.get("tid") not in (None, self.tenant_id):
            raise TokenRefused("another tenant")
        for claim in ("oid", "azp", "appid"):
            value = claims.get(claim)
            if isinstance(value, str) and value.lower() in self.callers:
                return value.lower()
        raise TokenRefused("caller not allowed")


class SignInTokens:
    """The Teams SSO token of the overview page (``authentication.getAuthToken()``): an Entra
    ID access token for the app's own API, as "Enable SSO for tab app" (learn.microsoft.com,
    Teams tabs) describes it. Accepted: signed by a key of the tenant's JWKS; ``iss`` an
    allowed tenant's v2.0 issuer or v1.0's ``https://sts.windows.net/<tenant>/`` (Teams gives
    v1.0 tokens unless the app registration asks for v2.0); ``aud`` the Application ID URI
    ``api://<domain>/<app id>`` (v1.0 tokens) or the bare app id (v2.0 tokens); ``tid`` an
    allowed tenant; ``scp`` holding ``access_as_user`` (a delegated token of a user, not an
    app's); an ``oid``. Returns the user's object id."""

    SCOPE = "access_as_user"

    def __init__(self, keys: OpenIdKeys, app_id: str, domain: str, tenants: frozenset[str]):
        self.keys = keys
        self.audiences = frozenset({app_id, f"api://{domain}/{app_id}"})
        self.tenants = frozenset(t.lower() for t in tenants)
        self.issuers = frozenset(
            issuer
            for tenant in self.tenants
            for issuer in (
                f"https://login.microsoftonline.com/{tenant}/v2.0",
                f"https://sts.windows.net/{tenant}/",
            )
        )

    async def user(self, auth_header: str) -> str:
        """The signed-in user's object id (lower case), or TokenRefused."""
        token = bearer(auth_header)
        if not self.issuers:
            raise TokenRefused("no tenant allowed")
        claims, _ = await verified_claims(token, self.keys, self.issuers, self.audiences)
        if str(claims.get("tid", "")).lower() not in self.tenants:
            raise TokenRefused("another tenant")
        if self.SCOPE not in str(claims.get("scp", "")).split():
            raise TokenRefused("not a user's token for this app")
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid:
            raise TokenRefused("no object id")
        return oid.lower()
