"""PostgreSQL goes away for 30 seconds while people are in their dialogues.

The bot reaches its PostgreSQL database through a TCP proxy in the test (the shared test
server stays up for the other tests); the proxy is cut: every connection is dropped and new
ones are refused, as when the server restarts or the network to it fails. While it is cut,
four managers keep answering; afterwards they carry on. A turn during the outage gets the
friendly "try again" message (never a 500, never a stack trace in the log), nothing that was
answered before is lost, and the bot recovers by itself, without a restart.

TEST_DB_OUTAGE_SECONDS shortens the outage for a quick local run (30 by default, as in CI).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.engine import make_url

from core.texts import texts_for
from tests.answers import STEP_ANSWERS
from tests.databases import rows
from tests.harness import BotServer, TeamsClient, User, action_data, texts_of
from tests.instances import TcpProxy

OUTAGE_SECONDS = float(os.environ.get("TEST_DB_OUTAGE_SECONDS", "30"))
STEPS = list(STEP_ANSWERS)
BEFORE = 2  # steps each manager answers before the outage


async def answer(client: TeamsClient, step: str) -> None:
    card = client.last_card()
    data = action_data(card.card, "next")
    assert data["step"] == step, (data["step"], step)
    sent = await client.submit(card, {**data, **STEP_ANSWERS[step]})
    assert sent and not any(ERROR in (s.text or "") for s in sent), texts_of(sent)


ERROR = texts_for("da-DK")("commands.error")


@contextlib.asynccontextmanager
async def bot_behind_a_proxy(
    postgres_server: Any, **settings: Any
) -> AsyncIterator[tuple[BotServer, TcpProxy, str]]:
    """The real bot on a new database, reached through a TCP proxy the test can cut or stall;
    yields the bot, the proxy and the database's direct URL (for reading what is stored)."""
    direct = postgres_server.new_database()
    url = make_url(direct)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    bot = BotServer(url.set(host="127.0.0.1", port=proxy.port).render_as_string(False), **settings)
    await bot.start()
    try:
        yield bot, proxy, direct
    finally:
        await bot.stop()
        await proxy.stop()
        postgres_server.drop(direct)


async def test_the_bot_answers_politely_through_a_database_outage_and_recovers(
    postgres_server, connector, session, caplog
):
    caplog.set_level(logging.WARNING)
    async with bot_behind_a_proxy(postgres_server) as (bot, proxy, direct):
        managers = [
            TeamsClient(
                session, bot, connector, User(f"Leder {n}", str(uuid.UUID(int=7_000_000 + n)))
            )
            for n in range(4)
        ]
        for manager in managers:
            await manager.say("start")
            for step in STEPS[:BEFORE]:
                await answer(manager, step)
        answered_before = {
            row[0]: row[1] for row in rows(direct, "SELECT id, answers FROM dialogues")
        }
        assert len(answered_before) == len(managers)

        # The outage: every manager keeps trying the next step and asking to continue.
        turns: list[tuple[float, float, int, list[str]]] = []
        cut = asyncio.Event()
        done = asyncio.Event()

        async def keep_trying(manager: TeamsClient) -> None:
            card = manager.last_card()
            data = {**action_data(card.card, "next"), **STEP_ANSWERS[STEPS[BEFORE]]}
            while not done.is_set():
                for activity in (
                    manager.activity(value=data, replyToId=card.id),
                    manager.activity(text="fortsæt", textFormat="plain"),
                ):
                    before = len(manager.seen())
                    started = time.monotonic()
                    status = await manager.post(activity)
                    replies = [s.text or "card" for s in manager.seen()[before:]]
                    turns.append((started, time.monotonic(), status, replies))
                await asyncio.sleep(0.3)

        load = [asyncio.create_task(keep_trying(m)) for m in managers]
        await asyncio.sleep(1.0)  # turns under way when it goes
        cut_at = time.monotonic()
        proxy.cut()
        cut.set()
        async with session.get(f"{bot.url}/healthz") as response:
            assert response.status in (200, 503), response.status
        await asyncio.sleep(OUTAGE_SECONDS)
        restored_at = time.monotonic()
        await proxy.restore()
        done.set()
        await asyncio.gather(*load)

        assert all(status == 201 for _, _, status, _ in turns), {t[2] for t in turns}
        during = [t for t in turns if t[0] > cut_at + 0.5 and t[1] < restored_at]
        assert len(during) >= len(managers) * 4, len(during)
        for _, _, _, replies in during:
            assert replies == [ERROR], replies

        # Carrying on without a restart: the first turn after the outage is answered, and
        # every dialogue goes on from where it was.
        first = await managers[0].say("fortsæt")
        assert first and ERROR not in " ".join(texts_of(first)), texts_of(first)
        for manager in managers:
            sent = await manager.say("fortsæt")
            step = action_data(sent[-1].card, "next")["step"]
            assert STEPS.index(step) in (BEFORE, BEFORE + 1), step  # at most the turn in flight
            for later in STEPS[STEPS.index(step) :]:
                await answer(manager, later)
        after = {row[0]: row[1] for row in rows(direct, "SELECT id, answers FROM dialogues")}
        for dialogue, answers in answered_before.items():
            for step in STEPS[:BEFORE]:
                assert f'"{step}"' in answers and f'"{step}"' in after[dialogue]
        stack_traces = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
        assert not stack_traces, [r.getMessage() for r in stack_traces]


HANG_TIMEOUT = 2.0  # DATABASE_TIMEOUT for the test below (15 s by default)


async def test_a_database_that_hangs_fails_the_turn_politely_within_the_timeout(
    postgres_server, connector, session, caplog
):
    """The server stops answering (connections stay open, nothing comes back): a turn gets the
    friendly "try again" after DATABASE_TIMEOUT instead of waiting for ever, other turns are
    not held longer than that, and when the server answers again the dialogue goes on."""
    caplog.set_level(logging.WARNING)
    async with bot_behind_a_proxy(postgres_server, database_timeout=HANG_TIMEOUT) as (
        bot,
        proxy,
        _direct,
    ):
        managers = [
            TeamsClient(
                session, bot, connector, User(f"Leder {n}", str(uuid.UUID(int=7_100_000 + n)))
            )
            for n in range(3)
        ]
        for manager in managers:
            await manager.say("start")
            await answer(manager, STEPS[0])

        proxy.hang()

        async def one_turn(manager: TeamsClient) -> tuple[float, int, list[str]]:
            before = len(manager.seen())
            started = time.monotonic()
            status = await manager.post(manager.activity(text="fortsæt", textFormat="plain"))
            return (
                time.monotonic() - started,
                status,
                [s.text or "card" for s in manager.seen()[before:]],
            )

        # The replies are sent through the local connector, not the database: they get out.
        results = await asyncio.gather(*(one_turn(m) for m in managers))
        for took, status, replies in results:
            assert status == 201, status
            assert replies == [ERROR], replies
            # One statement's timeout, at most a pool wait on top: never unbounded.
            assert took < 3 * HANG_TIMEOUT + 2, took

        proxy.resume()
        for manager in managers:
            sent = await manager.say("fortsæt")
            assert sent and ERROR not in " ".join(texts_of(sent)), texts_of(sent)
            for later in STEPS[1:]:
                await answer(manager, later)
        stack_traces = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
        assert not stack_traces, [r.getMessage() for r in stack_traces]
