"""The reminder endpoints accept an Entra ID token of an allowed caller (a scheduler's managed
identity), for the bot's app id, as well as the bearer secret; every other token gets 401.

Entra ID is the local OpenID issuer (tests/openid_issuer.py) serving a tenant's metadata and
keys; the tokens carry the claims of an Entra ID access token for an application
(``iss`` the tenant's v2.0 issuer, ``aud``, ``tid``, ``oid``, ``azp``)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from tests.harness import TENANT, BotServer
from tests.openid_issuer import OpenIdIssuer, new_rsa_key

APP_ID = "5f0c2d1e-7a43-4b8e-9c61-2e8d4f7a9b30"
SCHEDULER = "8d3b1c70-2e6f-4a59-b1d4-7c0e9a6f3b21"  # the managed identity's object id
SOMEONE_ELSE = "1c9e7b42-5d0a-4f83-9e26-3b8d7a1c4f60"
OTHER_TENANT = "99999999-9999-9999-9999-999999999999"
SECRET = "r" * 40


@pytest.fixture
def entra() -> Iterator[OpenIdIssuer]:
    server = OpenIdIssuer(issuer=f"https://login.microsoftonline.com/{TENANT}/v2.0")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def bot(db_path, entra) -> AsyncIterator[BotServer]:
    server = BotServer(
        db_path,
        microsoft_app_id=APP_ID,
        microsoft_app_password="placeholder",
        microsoft_app_tenant_id=TENANT,
        allowed_tenant_ids=TENANT,
        reminders_run_secret=SECRET,
        reminders_caller_ids=f"{SCHEDULER.upper()}",
        entra_openid_metadata_url=entra.metadata_url,
        # The channel's keys from a local issuer too: nothing leaves this machine.
        channel_openid_metadata_url=entra.metadata_url,
        channel_token_issuer=entra.issuer,
    )
    await server.start()
    yield server
    await server.stop()


def claims(entra: OpenIdIssuer, **overrides: Any) -> dict[str, Any]:
    entra_claims = {"serviceurl": None, "tid": TENANT, "oid": SCHEDULER, "azp": SCHEDULER}
    return entra.claims(APP_ID, "", **{**entra_claims, **overrides})


VALID: dict[str, Callable[[OpenIdIssuer], str]] = {
    "managed-identity-token": lambda e: e.sign(claims(e)),
    "audience-api-uri": lambda e: e.sign(claims(e, aud=f"api://{APP_ID}")),
    "v1-issuer": lambda e: e.sign(claims(e, iss=f"https://sts.windows.net/{TENANT}/")),
}
REFUSED: dict[str, Callable[[OpenIdIssuer], str]] = {
    "caller-not-allowed": lambda e: e.sign(claims(e, oid=SOMEONE_ELSE, azp=SOMEONE_ELSE)),
    "wrong-audience": lambda e: e.sign(claims(e, aud="https://graph.microsoft.com")),
    "other-tenant-issuer": lambda e: e.sign(
        claims(e, iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0")
    ),
    "other-tenant-claim": lambda e: e.sign(claims(e, tid=OTHER_TENANT)),
    "expired": lambda e: e.sign(claims(e, exp=int(time.time()) - 3600, nbf=0, iat=0)),
    "unknown-key": lambda e: e.sign(claims(e), key=new_rsa_key(), kid="unknown"),
    "other-key-same-kid": lambda e: e.sign(claims(e), key=new_rsa_key()),
    "alg-none": lambda e: e.unsigned_token(claims(e)),
    "alg-hs256-with-public-key": lambda e: e.hs256_with_public_key(claims(e)),
}


async def status_of(session, bot: BotServer, authorization: str) -> int:
    headers = {"Authorization": authorization}
    async with session.get(f"{bot.url}/api/reminders/status", headers=headers) as response:
        await response.read()
        return response.status


@pytest.mark.parametrize("case", list(VALID), ids=list(VALID))
async def test_an_allowed_callers_entra_token_is_accepted(case, session, bot, entra):
    token = VALID[case](entra)
    assert await status_of(session, bot, "Bearer " + token) == 200
    async with session.post(
        f"{bot.url}/api/reminders/run", headers={"Authorization": "Bearer " + token}
    ) as response:
        assert response.status == 202


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
async def test_other_tokens_are_refused(case, session, bot, entra):
    assert await status_of(session, bot, "Bearer " + REFUSED[case](entra)) == 401
    async with session.post(
        f"{bot.url}/api/reminders/run",
        headers={"Authorization": "Bearer " + REFUSED[case](entra)},
    ) as response:
        assert response.status == 401


async def test_the_bearer_secret_still_works(session, bot):
    assert await status_of(session, bot, f"Bearer {SECRET}") == 200
    assert await status_of(session, bot, "Bearer " + "x" * 40) == 401
