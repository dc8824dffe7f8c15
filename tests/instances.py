"""Real bot processes for the multi-instance tests, and the two proxies in front of them.

- ``BotProcess``: ``python app.py`` on its own loopback port, with the environment a test
  gives it (the store, SharePoint, the reminders' trigger); SIGKILL or SIGTERM it.
- ``RoundRobinProxy``: a small reverse proxy on loopback, as a load balancer in front of the
  instances. Requests go to the instances in turn; a connection refused (an instance that is
  dead) is retried on the next one, as a load balancer's health check takes a dead instance
  out of rotation. A request an instance accepted and then failed is not retried: its answer
  goes back as it is.
- ``TcpProxy``: bytes between the bot and PostgreSQL; ``cut`` drops every connection and
  refuses new ones (the database gone), ``restore`` lets them through again.
- ``due_slot``: the reminder weekday and time (settings) whose week is due now, by the real
  clock, so that instances without a moved clock run the same week.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from core.schedule import WeeklySlot
from reminders.scheduler import CATCH_UP, closed_days

ROOT = Path(__file__).resolve().parent.parent
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
ZONE = ZoneInfo("Europe/Copenhagen")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def store_env(target: Path | str) -> dict[str, str]:
    """The bot's settings for a test's store: a PostgreSQL URL or a SQLite file."""
    if isinstance(target, str) and "://" in target:
        return {"DATABASE_URL": target}
    return {"DATABASE_PATH": str(target)}


def base_env(**settings: str) -> dict[str, str]:
    """This environment without Microsoft app settings (local mode), plus ``settings``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MICROSOFT_APP", "DATABASE_", "SHAREPOINT_", "GRAPH_", "REMINDER"))
    }
    return {**env, "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", **settings}


def due_slot(now: datetime | None = None) -> dict[str, str]:
    """REMINDER_WEEKDAY and REMINDER_TIME whose send time has passed, at most a day or two
    ago and well inside the catch-up, so a run now plans and sends that week."""
    now = now or datetime.now(UTC)
    today = now.astimezone(ZONE).date()
    for back in range(3):
        day = today - timedelta(days=back)
        if day.weekday() >= 5 or day in closed_days(day.year):
            continue
        slot = WeeklySlot(day.weekday(), datetime.min.time(), ZONE)
        due = slot.due_week(now, closed_days(day.year))
        if due and now - slot.send_time(*due, closed_days(day.year)) < CATCH_UP:
            return {"REMINDER_WEEKDAY": WEEKDAYS[day.weekday()], "REMINDER_TIME": "00:00"}
    raise AssertionError(f"no working day in the three days up to {today}")


class BotProcess:
    def __init__(self, env: dict[str, str], name: str = "bot") -> None:
        self.port = free_port()
        self.env = {**env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self.name = name
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 60.0) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "app.py", cwd=ROOT, env=self.env, stdin=asyncio.subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"{self.name} exited with {self.process.returncode}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} did not start in {timeout} s")
                await asyncio.sleep(0.1)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no lease released."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), 40)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()


class RoundRobinProxy:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self._turn = itertools.count()
        self.routed: list[str] = []  # the upstream of every request answered, in order
        self.refused: list[str] = []  # connections refused (an instance taken out)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
        if self._session:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        first = next(self._turn)
        for n in range(len(self.upstreams)):
            upstream = self.upstreams[(first + n) % len(self.upstreams)]
            try:
                async with self._session.request(
                    request.method, upstream + request.path_qs, data=body, headers=headers
                ) as answer:
                    content = await answer.read()
                    self.routed.append(upstream)
                    return web.Response(
                        status=answer.status,
                        body=content,
                        content_type=answer.content_type if content else None,
                    )
            except aiohttp.ClientConnectorError:
                self.refused.append(upstream)  # not listening: the next instance
        return web.Response(status=502, text="no instance")


class TcpProxy:
    """Loopback TCP between a client and ``target`` (host, port)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._cut = False
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._open.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    await self._flowing.wait()
                    dst.write(data)
                    await dst.drain()
            dst.close()

        with contextlib.suppress(asyncio.CancelledError):  # the proxy stops
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._open.difference_update((writer, up_writer))

    def cut(self) -> None:
        """The database is gone: every connection dropped, new ones refused."""
        self._cut = True
        if self._server is not None:
            self._server.close()  # stop listening: a new connection is refused
        for writer in list(self._open):
            with contextlib.suppress(OSError):
                transport: Any = writer.transport
                transport.abort()
        self._open.clear()

    def hang(self) -> None:
        """The database hangs: connections stay open (and new ones are accepted), but nothing
        gets through in either direction, as with a server that stopped answering."""
        self._flowing.clear()

    def resume(self) -> None:
        """What was held back goes through, and everything flows again."""
        self._flowing.set()

    async def restore(self) -> None:
        self._cut = False
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
