from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.connector import LocalConnector
from tests.databases import PostgresServer, Target, wanted_engines
from tests.harness import BotServer, TeamsClient, User, wanted_hosts
from tests.overview_setup import overview_graph, overview_issuer, signed_in_bot  # noqa: F401 - fixtures

MANAGER = User("Lone Leder", "11111111-1111-1111-1111-111111111111")
EMPLOYEE = User("Mette Sørensen", "22222222-2222-2222-2222-222222222222")
OTHER = User("Ole Udenforstående", "33333333-3333-3333-3333-333333333333")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "both_engines: runs once on SQLite and once on PostgreSQL (the db_path fixture)",
    )
    config.addinivalue_line(
        "markers",
        "both_hosts: each test that starts the bot runs once on botbuilder and once on the"
        " Microsoft 365 Agents SDK (BOT_SDK, the bot_sdk fixture)",
    )


#: A test starts the bot (and so has an SDK) when it uses one of these fixtures.
STARTS_THE_BOT = ("bot", "db_path", "connector")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked both_engines run on each engine of TEST_ENGINES (both by default)."""
    chosen = any(
        "engine" in str(mark.args[0]) for mark in metafunc.definition.iter_markers("parametrize")
    )
    if (
        "engine" in metafunc.fixturenames
        and metafunc.definition.get_closest_marker("both_engines")
        and not chosen  # a test that names its engine itself
    ):
        metafunc.parametrize("engine", wanted_engines(), indirect=True)
    if (
        metafunc.definition.get_closest_marker("both_hosts")
        and (
            any(name in metafunc.fixturenames for name in STARTS_THE_BOT)
            or "bot_sdk" in metafunc.function.__code__.co_varnames  # a test that asks for it
        )
        and "bot_sdk" not in str(list(metafunc.definition.iter_markers("parametrize")))
    ):
        metafunc.parametrize("bot_sdk", wanted_hosts(), indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """TEST_ENGINES=sqlite (outside CI) leaves out the tests that need PostgreSQL: they are
    deselected, as asked for, never skipped."""
    if "postgresql" in wanted_engines():
        return
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        needs = params.get("engine") == "postgresql" or "postgres_server" in getattr(
            item, "fixturenames", ()
        )
        (drop if needs else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def bot_sdk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The SDK of this test's bot: BOT_SDK as the environment has it (botbuilder unless set),
    or, in a test marked both_hosts, each of TEST_HOSTS in turn. It is set as BOT_SDK, which
    the settings read, so every bot the test starts runs on it."""
    chosen = getattr(request, "param", None)
    if chosen is None:
        return os.environ.get("BOT_SDK", "botbuilder")
    monkeypatch.setenv("BOT_SDK", chosen)
    return str(chosen)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The engine of this test's store: "sqlite" unless the test is marked both_engines."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    url = os.environ.get("TEST_POSTGRES_URL")
    server = PostgresServer(url) if url else None
    yield server
    if server:
        server.close()


@pytest.fixture
def postgres_server(postgres: PostgresServer | None) -> PostgresServer:
    """The PostgreSQL server; without one a PostgreSQL test fails, it never skips."""
    if postgres is None:
        pytest.fail(
            "no PostgreSQL for this test: run it with scripts/test.sh, set TEST_POSTGRES_URL,"
            " or choose TEST_ENGINES=sqlite",
            pytrace=False,
        )
    return postgres


@pytest.fixture
def db_path(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> Iterator[Target]:
    """This test's store: a SQLite file, or a fresh PostgreSQL database (a URL)."""
    if engine == "sqlite":
        yield tmp_path / "bot.sqlite3"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.new_database()
    yield url
    server.drop(url)


@pytest.fixture
async def connector() -> AsyncIterator[LocalConnector]:
    c = LocalConnector()
    await c.start()
    yield c
    await c.stop()


@pytest.fixture
async def bot(db_path: Target) -> AsyncIterator[BotServer]:
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
