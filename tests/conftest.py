from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.connector import LocalConnector
from tests.harness import BotServer, TeamsClient, User

MANAGER = User("Lone Leder", "11111111-1111-1111-1111-111111111111")
EMPLOYEE = User("Mette Sørensen", "22222222-2222-2222-2222-222222222222")
OTHER = User("Ole Udenforstående", "33333333-3333-3333-3333-333333333333")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
async def connector() -> AsyncIterator[LocalConnector]:
    c = LocalConnector()
    await c.start()
    yield c
    await c.stop()


@pytest.fixture
async def bot(db_path: Path) -> AsyncIterator[BotServer]:
    server = BotServer(db_path)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def manager(session, bot, connector) -> TeamsClient:
    return TeamsClient(session, bot, connector, MANAGER)


@pytest.fixture
def outsider(session, bot, connector) -> TeamsClient:
    return TeamsClient(session, bot, connector, OTHER)


@pytest.fixture
def employee(session, bot, connector) -> TeamsClient:
    return TeamsClient(session, bot, connector, EMPLOYEE)
