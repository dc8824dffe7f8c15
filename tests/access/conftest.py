"""The access tests' world: the local Graph server as Entra ID's directory (tests/
access_directory.py) and the bot with the access checks on against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.access_directory import access_settings, started_graph
from tests.graph_server import GraphServer
from tests.harness import BotServer, TeamsClient, User


@pytest.fixture
async def graph(monkeypatch) -> AsyncIterator[GraphServer]:
    server = await started_graph(monkeypatch)
    yield server
    await server.stop()


@pytest.fixture
async def bot(db_path, graph) -> AsyncIterator[BotServer]:
    server = BotServer(db_path, **access_settings(graph))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def people(session, bot, connector) -> Callable[[User], TeamsClient]:
    """A Teams client for a user, on the bot."""

    def client(user: User) -> TeamsClient:
        return TeamsClient(session, bot, connector, user)

    return client
