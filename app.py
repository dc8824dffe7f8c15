"""Composition root: settings → store → dialogues → bot → aiohttp routes.

Run it with ``python app.py``. Without Microsoft app credentials it runs in local mode for the
Microsoft 365 Agents Playground, on the embedded SQLite store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from botbuilder.core import ConversationState

from bot.adapter import create_adapter
from bot.logging_setup import configure as configure_logging
from bot.proactive import ProactiveSender
from bot.routes import Routes
from bot.state_storage import SqliteStorage
from bot.teams_bot import HomeWorkBot
from cards.renderer import CardRenderer
from core.version import VERSION
from dialogs.data_requests import DataRequests
from dialogs.employee_side import EmployeeSide
from dialogs.manager_dialogue import ManagerDialogue
from dialogs.router import Router
from dialogs.screens import Screens
from settings import Settings
from store.conversations import ConversationStore
from store.database import Database
from store.dialogues import DialogueStore
from store.key_values import KeyValueStore
from store.outbox import Outbox
from store.personal_data import PersonalData
from store.self_checks import SelfCheckStore

log = logging.getLogger("app")


class StartupRefused(SystemExit):
    pass


def check_mode(settings: Settings) -> None:
    if settings.local_mode and settings.app_env == "production":
        raise StartupRefused(
            "APP_ENV=production needs MICROSOFT_APP_ID and credentials: refusing to start in"
            " local mode, which accepts unauthenticated requests."
        )
    problem = settings.credential_problem()
    if problem:
        raise StartupRefused(f"Incomplete Microsoft app settings: {problem}.")
    if settings.local_mode and settings.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "LOCAL MODE on HOST=%s: anyone who can reach this address can act as any user."
            " Use HOST=127.0.0.1 for the Agents Playground.",
            settings.host,
        )
    if settings.local_mode:
        log.warning(
            "LOCAL MODE: no MICROSOFT_APP_ID is set, so requests are NOT authenticated. Only for"
            " the Agents Playground on this machine (service URLs on %s).",
            settings.local_service_hosts,
        )
    else:
        log.info("Bot Framework channel authentication is on (app id set).")


RETENTION_EVERY = timedelta(days=1)
RETENTION_FIRST_AFTER = timedelta(minutes=1)


async def retention_loop(data: PersonalData, retention_days: int) -> None:
    """The daily retention job: self-check answers older than RETENTION_DAYS go. It first
    runs a minute after start, when the store is open and start-up is over."""
    await asyncio.sleep(RETENTION_FIRST_AFTER.total_seconds())
    while True:
        try:
            removed = await data.purge_self_checks(datetime.now(UTC), retention_days)
            log.info("retention: %s self-checks deleted", removed)
        except Exception as error:  # noqa: BLE001 - try again tomorrow
            log.error("retention job failed: %s", type(error).__name__)
        await asyncio.sleep(RETENTION_EVERY.total_seconds())


def create_app(settings: Settings) -> web.Application:
    check_mode(settings)
    app = web.Application(client_max_size=settings.max_body_bytes)
    db = Database(settings.database_path)
    zone = ZoneInfo(settings.timezone)

    def today() -> date:
        return datetime.now(zone).date()

    async def open_store(app: web.Application) -> None:
        await db.open()
        log.info("store ready (schema version %s)", await db.schema_version())

    async def close_store(app: web.Application) -> None:
        await db.close()

    screens = Screens(CardRenderer(), people_picker=settings.use_people_picker)
    dialogues, self_checks, people = DialogueStore(db), SelfCheckStore(db), ConversationStore(db)
    manager = ManagerDialogue(dialogues, self_checks, people, screens, today)
    employee = EmployeeSide(dialogues, self_checks, manager, screens, today)
    adapter = create_adapter(settings)
    bot = HomeWorkBot(
        Router(
            manager,
            employee,
            DataRequests(db, screens, settings.hr_units),
            screens,
            Outbox(db) if settings.sharepoint_enabled else None,
        ),
        people,
        ConversationState(SqliteStorage(KeyValueStore(db))),
        ProactiveSender(adapter, people, settings.microsoft_app_id),
        forced_locale=settings.force_locale,
    )
    Routes(settings, adapter, bot, db).install(app)

    async def close_clients(app: web.Application) -> None:
        await adapter.bot_framework_authentication.close()

    async def retention(app: web.Application):  # an aiohttp cleanup context
        task = asyncio.create_task(retention_loop(PersonalData(db), settings.retention_days))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def sharepoint_sync(app: web.Application):  # an aiohttp cleanup context
        """The outbox syncer, its Graph client and the process's one credential."""
        if not settings.sharepoint_enabled:
            log.info("SharePoint is off: agreements are kept only in the local store")
            yield
            return
        from sharepoint.runtime import graph, syncer

        async def run(client) -> None:
            while not await db.ping():  # cleanup contexts start before the store opens
                await asyncio.sleep(0.05)
            await syncer(db, client, settings).run()

        async with graph(settings) as client:
            task = asyncio.create_task(run(client))
            log.info("SharePoint sync on")
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.on_startup.append(open_store)
    app.cleanup_ctx.append(retention)
    app.cleanup_ctx.append(sharepoint_sync)
    app.on_cleanup.append(close_clients)
    app.on_cleanup.append(close_store)
    return app


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    log.info("Hjemmearbejdsdialog %s starting on %s:%s", VERSION, settings.host, settings.port)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=30,
    )


if __name__ == "__main__":
    main()
