"""Passwordless PostgreSQL: each new connection's password is an Entra ID access token,
fetched once and reused until shortly before it expires, sent over TLS.

The token endpoint cannot be reached here: a fake credential hands out the tokens, and the
test server's role ``entra_bot`` signs in with scram (scripts/postgres.sh), so a wrong or
stale token is refused as Azure would refuse it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from sqlalchemy import text
from sqlalchemy.engine import make_url

from store.database import ENTRA_SCOPE, Database, EntraPassword, StoreError
from tests.databases import PostgresServer, execute

ROLE = "entra_bot"


class FakeCredential:
    """An azure-identity async credential that hands out the next of ``tokens``."""

    def __init__(self, *tokens: str, lifetime: float = 3600, clock: Any = time.time) -> None:
        self.tokens = list(tokens)
        self.lifetime = lifetime
        self.clock = clock
        self.scopes: list[tuple[str, ...]] = []
        self.closed = False

    async def get_token(self, *scopes: str, **_kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        token = self.tokens[min(len(self.scopes), len(self.tokens)) - 1]
        return AccessToken(token, int(self.clock() + self.lifetime))

    async def close(self) -> None:
        self.closed = True


async def test_a_token_is_reused_until_shortly_before_it_expires():
    now = [1_000_000.0]
    credential = FakeCredential("t1", "t2", lifetime=3600, clock=lambda: now[0])
    password = EntraPassword(credential, margin=300, clock=lambda: now[0])
    assert [await password() for _ in range(5)] == ["t1"] * 5
    now[0] += 3600 - 301
    assert await password() == "t1"  # still more than five minutes left
    now[0] += 2
    assert await password() == "t2"
    assert credential.scopes == [(ENTRA_SCOPE,), (ENTRA_SCOPE,)]


async def test_connections_opened_at_once_share_one_token_request():
    credential = FakeCredential("t1")
    password = EntraPassword(credential)
    assert await asyncio.gather(*(password() for _ in range(10))) == ["t1"] * 10
    assert len(credential.scopes) == 1


@pytest.fixture
def entra_url(postgres_server: PostgresServer) -> str:
    """A migrated database that the role entra_bot may use, its URL without a password."""
    postgres_server.admin(
        f"DO $$ BEGIN CREATE ROLE {ROLE} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        f"ALTER ROLE {ROLE} PASSWORD 'token-A'",
    )
    url = postgres_server.new_database()
    execute(url, f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {ROLE}")
    yield make_url(url).set(username=ROLE, password=None).render_as_string(hide_password=False)
    postgres_server.drop(url)


@pytest.fixture
async def counted(monkeypatch) -> AsyncIterator[list[str]]:
    """The passwords asyncpg asked for, one per new connection."""
    asked: list[str] = []
    original = EntraPassword.__call__

    async def asking(self: EntraPassword) -> str:
        token = await original(self)
        asked.append(token)
        return token

    monkeypatch.setattr(EntraPassword, "__call__", asking)
    yield asked


async def test_each_new_connection_gets_the_token_and_a_fresh_one_after_expiry(
    entra_url, postgres_server, counted
):
    credential = FakeCredential("token-A", "token-B")
    db = Database(entra_url + "?ssl=disable", auth="entra", credential=credential)
    await db.open()
    try:

        async def hold() -> None:
            async with db.transaction() as conn:
                await conn.execute(text("SELECT 1"))
                await asyncio.sleep(0.2)

        await asyncio.gather(*(hold() for _ in range(4)))  # four connections at once
        assert counted == ["token-A"] * 4 and len(credential.scopes) == 1
        assert await db.ping()

        # The token is about to expire and Entra has a new one: a new connection uses it.
        postgres_server.admin(f"ALTER ROLE {ROLE} PASSWORD 'token-B'")
        assert db.entra_password is not None
        db.entra_password.clock = lambda: time.time() + 3600 - 200
        await db.engine.dispose()  # the pooled connections end; the next one is new
        assert await db.schema_state() == "current"
        assert counted[-1] == "token-B" and len(credential.scopes) == 2
    finally:
        await db.close()
    assert not credential.closed  # the caller's credential: the caller closes it


async def test_a_refused_token_stops_the_start_with_one_line(entra_url):
    db = Database(entra_url + "?ssl=disable", auth="entra", credential=FakeCredential("wrong"))
    with pytest.raises(StoreError) as refused:
        await db.open()
    message = str(refused.value)
    assert "cannot be reached" in message and "password authentication failed" in message
    assert "\n" not in message and "wrong" not in message


async def test_a_token_is_only_sent_over_tls(entra_url):
    """The test server has no TLS: with the default ssl=require the bot does not connect."""
    db = Database(entra_url, auth="entra", credential=FakeCredential("token-A"))
    with pytest.raises(StoreError, match="SSL"):
        await db.open()


def test_entra_sign_in_needs_postgresql():
    with pytest.raises(StoreError, match="needs a PostgreSQL DATABASE_URL"):
        Database("sqlite+aiosqlite:///x.sqlite3", auth="entra")
