"""Channel authentication with an app id set: only a token that the configured issuer signed
for this bot and this service URL gets an activity processed.

The bot is pointed (CHANNEL_OPENID_METADATA_URL, CHANNEL_TOKEN_ISSUER) at a local OpenID
issuer (tests/openid_issuer.py) that serves metadata and a JWKS on a loopback port and signs
tokens with a locally generated RSA key, so the bot's real validation runs with no network, on
either SDK (the both_hosts mark).

"Processed" is seen in the store: "start" creates the manager's dialogue row. A refused
activity gets 401, leaves ``dialogues`` empty, and nothing reaches the LocalConnector. For the
valid cases the outbound Entra token (which would need the network) is stubbed, so the answer
also reaches the LocalConnector; the inbound check is botbuilder's own, unstubbed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from botframework.connector.auth import JwtTokenExtractor, MicrosoftAppCredentials

from tests.conftest import MANAGER
from tests.connector import LocalConnector
from tests.harness import TENANT, BotServer, TeamsClient
from tests.openid_issuer import OpenIdIssuer, new_rsa_key

pytestmark = pytest.mark.both_hosts

APP_ID = "5f0c2d1e-7a43-4b8e-9c61-2e8d4f7a9b30"
OTHER_APP_ID = "0b7e4c2a-1d93-4f5e-8a26-6c3f9e1d7b84"
#: An issuer botbuilder takes for the Bot Framework Emulator (another validation path).
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"


@pytest.fixture
def issuer() -> Iterator[OpenIdIssuer]:
    server = OpenIdIssuer()
    server.start()
    yield server
    server.stop()
    # botbuilder caches metadata per URL for the process; None is the (unset) emulator URL.
    for url in (server.metadata_url, None):
        JwtTokenExtractor.metadataCache.pop(url, None)


@pytest.fixture
async def bot(db_path: Path, issuer: OpenIdIssuer) -> AsyncIterator[BotServer]:
    """The real app with channel authentication on, checking tokens against ``issuer``."""
    server = BotServer(
        db_path,
        microsoft_app_id=APP_ID,
        microsoft_app_password="placeholder",
        microsoft_app_tenant_id=TENANT,
        allowed_tenant_ids=TENANT,
        channel_openid_metadata_url=issuer.metadata_url,
        channel_token_issuer=issuer.issuer,
    )
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def manager(session, bot, connector) -> TeamsClient:
    return TeamsClient(session, bot, connector, MANAGER)


@dataclass
class Call:
    """What a case needs to make its Authorization header."""

    issuer: OpenIdIssuer
    service_url: str

    def claims(self, **overrides: Any) -> dict[str, Any]:
        return self.issuer.claims(APP_ID, self.service_url, **overrides)

    def token(self, **overrides: Any) -> str:
        return self.issuer.sign(self.claims(**overrides))


TOLERANCE = 5 * 60  # botbuilder's clock tolerance for exp and nbf
LONG_AGO = int(time.time()) - 2 * 3600


def tampered(c: Call) -> str:
    """A valid token's header and signature around another payload."""
    header, _, signature = c.token().split(".")
    payload = c.token(serviceurl="https://attacker.example/").split(".")[1]
    return f"{header}.{payload}.{signature}"


def not_endorsed_for_teams(c: Call) -> str:
    """Signed with a published key that may only sign for another channel."""
    kid, key = c.issuer.publish_key(["webchat"])
    return c.issuer.sign(c.claims(), key=key, kid=kid)


# A whole Authorization header (None: no header) ...
HEADERS: dict[str, Callable[[Call], str | None]] = {
    "no-authorization-header": lambda c: None,
    "bearer-without-token": lambda c: "Bearer",
    "bearer-garbage": lambda c: "Bearer not-a-jwt",
    "valid-token-without-scheme": lambda c: c.token(),
    "valid-token-basic-scheme": lambda c: "Basic " + c.token(),
}
# ... or a token, sent as "Bearer <token>".
TOKENS: dict[str, Callable[[Call], str]] = {
    "expired-beyond-tolerance": lambda c: c.token(
        exp=int(time.time()) - TOLERANCE - 60, nbf=LONG_AGO, iat=LONG_AGO
    ),
    "not-yet-valid-beyond-tolerance": lambda c: c.token(nbf=int(time.time()) + TOLERANCE + 600),
    "wrong-audience": lambda c: c.token(aud=OTHER_APP_ID),
    "no-audience": lambda c: c.token(aud=None),
    "wrong-issuer": lambda c: c.token(iss="https://api.botframework.example"),
    "emulator-issuer": lambda c: c.token(iss=EMULATOR_ISSUER),
    "skill-shaped-claims": lambda c: c.token(ver="1.0", appid=OTHER_APP_ID),
    "bad-signature-other-key-same-kid": lambda c: c.issuer.sign(c.claims(), key=new_rsa_key()),
    "kid-not-in-jwks": lambda c: c.issuer.sign(c.claims(), key=new_rsa_key(), kid="unknown"),
    "key-not-endorsed-for-msteams": not_endorsed_for_teams,
    "tampered-payload": tampered,
    "serviceurl-claim-differs": lambda c: c.token(serviceurl="https://attacker.example/"),
    "serviceurl-claim-missing": lambda c: c.token(serviceurl=None),
    "alg-none": lambda c: c.issuer.unsigned_token(c.claims()),
    "alg-hs256-with-public-key": lambda c: c.issuer.hs256_with_public_key(c.claims()),
}
REFUSED: dict[str, Callable[[Call], str | None]] = {
    **HEADERS,
    **{name: (lambda c, make=make: "Bearer " + make(c)) for name, make in TOKENS.items()},
}


def dialogue_managers(db_path: Path) -> list[str]:
    conn = sqlite3.connect(db_path)
    try:
        return [row[0] for row in conn.execute("SELECT manager_id FROM dialogues")]
    finally:
        conn.close()


async def post(
    session: aiohttp.ClientSession, bot: BotServer, activity: dict, authorization: str | None
) -> int:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with session.post(f"{bot.url}/api/messages", json=activity, headers=headers) as r:
        await r.read()
        return r.status


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
async def test_refused_tokens_get_401_and_change_nothing(
    case, session, bot, manager, connector: LocalConnector, issuer, db_path
):
    authorization = REFUSED[case](Call(issuer, connector.url))
    status = await post(session, bot, manager.activity(text="start"), authorization)
    # One comparison, so that a failure shows the status and what was processed together.
    assert (status, dialogue_managers(db_path), connector.sent, connector.created) == (
        401,
        [],
        [],
        [],
    )


ACCEPTED: dict[str, Callable[[Call], str]] = {
    "fresh-token": lambda c: c.token(),
    "expired-2-min-ago-within-tolerance": lambda c: c.token(
        exp=int(time.time()) - 120, nbf=LONG_AGO, iat=LONG_AGO
    ),
}


@pytest.fixture
def outbound_tokens(monkeypatch, bot_sdk) -> list[str]:
    """Stand in for Entra on the way out: the bot's replies get a fixed token instead of one
    from login.microsoftonline.com, so a processed turn answers at the LocalConnector and
    nothing leaves this machine. The stand-in replaces the public token call of each SDK's
    credentials (botbuilder's MicrosoftAppCredentials, the Agents SDK's MsalAuth); inbound
    validation is untouched."""
    used: list[str] = []

    if bot_sdk == "agents":
        from microsoft_agents.authentication.msal import MsalAuth

        async def get_token(provider, resource_url, scopes, force_refresh=False) -> str:
            used.append(provider.configuration.CLIENT_ID)
            return "outbound-test-token"

        monkeypatch.setattr(MsalAuth, "get_access_token", get_token)
        return used

    def get_access_token(credentials, force_refresh: bool = False) -> str:
        used.append(credentials.microsoft_app_id)
        return "outbound-test-token"

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", get_access_token)
    return used


@pytest.mark.parametrize("case", list(ACCEPTED), ids=list(ACCEPTED))
async def test_valid_token_is_processed(
    case, session, bot, manager, connector: LocalConnector, issuer, db_path, outbound_tokens
):
    activity = manager.activity(text="start")
    # The same activity without a token is refused: the valid case really goes through the
    # authentication path.
    assert await post(session, bot, activity, None) == 401
    assert dialogue_managers(db_path) == [] and connector.sent == []

    authorization = "Bearer " + ACCEPTED[case](Call(issuer, connector.url))
    assert await post(session, bot, activity, authorization) == 201
    assert dialogue_managers(db_path) == [MANAGER.aad_object_id]
    assert manager.seen(), "the bot answered at the activity's serviceUrl"
    assert outbound_tokens and set(outbound_tokens) == {APP_ID}
    assert set(connector.authorizations) == {"Bearer outbound-test-token"}  # on every reply
    # The signing keys came from the local issuer's metadata and JWKS.
    path = issuer.metadata_url.removeprefix(issuer.base_url)
    assert issuer.requests[:2] == [path, path.replace("/.well-known/openid-configuration", "/keys")]


# --- the signing keys are fetched without blocking the event loop ---------------------------

SLOW = 1.5


async def timed(coro) -> tuple[Any, float]:
    started = time.perf_counter()
    result = await coro
    return result, time.perf_counter() - started


class Ticker:
    """Notes the longest gap between ticks of the event loop the bot and the test share: a
    blocking call in the bot shows as a long gap."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last)
            last = now

    def __enter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def healthz(session: aiohttp.ClientSession, bot: BotServer) -> int:
    async with session.get(f"{bot.url}/healthz") as r:
        await r.read()
        return r.status


async def test_a_slow_jwks_at_start_does_not_stall_other_requests(
    session, db_path, issuer, connector: LocalConnector, outbound_tokens
):
    issuer.keys_delay = SLOW
    server = BotServer(
        db_path,
        microsoft_app_id=APP_ID,
        microsoft_app_password="placeholder",
        microsoft_app_tenant_id=TENANT,
        allowed_tenant_ids=TENANT,
        channel_openid_metadata_url=issuer.metadata_url,
        channel_token_issuer=issuer.issuer,
    )
    await server.start()
    try:
        manager = TeamsClient(session, server, connector, MANAGER)
        call = Call(issuer, connector.url)
        with Ticker() as ticker:
            turn = asyncio.create_task(
                timed(
                    post(session, server, manager.activity(text="start"), "Bearer " + call.token())
                )
            )
            await asyncio.sleep(0.1)
            # While the keys are on their way, the bot answers everything else at once.
            for _ in range(5):
                status, took = await timed(healthz(session, server))
                assert status == 200 and took < 0.3, f"healthz took {took:.3f}s"
            status, took = await turn
        assert ticker.longest < 0.3, f"the event loop stalled for {ticker.longest:.3f}s"
        assert status == 201 and took > SLOW - 0.3  # the turn itself waited for its keys
        assert dialogue_managers(db_path) == [MANAGER.aad_object_id]
    finally:
        await server.stop()


async def test_a_slow_key_refresh_does_not_stall_turns_with_known_keys(
    session, bot, manager, connector: LocalConnector, issuer, db_path, outbound_tokens
):
    from app import CHANNEL_KEYS

    call = Call(issuer, connector.url)
    assert await post(session, bot, manager.activity(text="hjælp"), "Bearer " + call.token()) == 201
    # A new signing key appears (a rollover) and the JWKS becomes slow.
    bot.app[CHANNEL_KEYS].retry_after = 0  # refetch for an unknown key at once
    kid, key = issuer.publish_key(["msteams"])
    issuer.keys_delay = SLOW
    new_token = "Bearer " + issuer.sign(call.claims(), key=key, kid=kid)
    with Ticker() as ticker:
        rollover = asyncio.create_task(
            timed(post(session, bot, manager.activity(text="status"), new_token))
        )
        await asyncio.sleep(0.1)
        for _ in range(3):
            status, took = await timed(
                post(session, bot, manager.activity(text="hjælp"), "Bearer " + call.token())
            )
            assert status == 201 and took < 0.5, f"a turn with a known key took {took:.3f}s"
        status, took = await rollover
    assert ticker.longest < 0.3, f"the event loop stalled for {ticker.longest:.3f}s"
    assert status == 201 and took > SLOW - 0.3


# --- the tenant: checked after the token, and read where Teams puts it ----------------------

FOREIGN_TENANT = "99999999-9999-9999-9999-999999999999"


def in_tenant(activity: dict, tenant: str, where: str) -> dict:
    """The activity from ``tenant``, named only in channelData or only in the conversation
    (``conversation.tenantId``, as Teams sends it on some activities)."""
    activity = {**activity, "conversation": {**activity["conversation"]}}
    activity.pop("channelData", None)
    activity["conversation"].pop("tenantId", None)
    if where == "channelData":
        activity["channelData"] = {"tenant": {"id": tenant}}
    else:
        activity["conversation"]["tenantId"] = tenant
    return activity


@pytest.mark.parametrize("where", ["channelData", "conversation"])
async def test_without_a_token_the_tenant_is_not_revealed(
    where, session, bot, manager, connector: LocalConnector, db_path
):
    """401 for a missing token whatever the tenant: the status code does not say which
    tenant is allowed."""
    for tenant in (TENANT, FOREIGN_TENANT):
        activity = in_tenant(manager.activity(text="start"), tenant, where)
        assert await post(session, bot, activity, None) == 401
        assert await post(session, bot, activity, "Bearer not-a-jwt") == 401
    assert dialogue_managers(db_path) == [] and connector.sent == []


@pytest.mark.parametrize("where", ["channelData", "conversation"])
async def test_with_a_valid_token_the_tenant_decides(
    where, session, bot, manager, connector: LocalConnector, issuer, db_path, outbound_tokens
):
    authorization = "Bearer " + Call(issuer, connector.url).token()
    foreign = in_tenant(manager.activity(text="start"), FOREIGN_TENANT, where)
    assert await post(session, bot, foreign, authorization) == 403
    assert dialogue_managers(db_path) == []
    # The allowed tenant, also when only conversation.tenantId names it.
    allowed = in_tenant(manager.activity(text="start"), TENANT, where)
    assert await post(session, bot, allowed, authorization) == 201
    assert dialogue_managers(db_path) == [MANAGER.aad_object_id]
