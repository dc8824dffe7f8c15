"""Composition root: settings → store → dialogues → bot → aiohttp routes.

Run it with ``python app.py``. Without Microsoft app credentials it runs in local mode for the
Microsoft 365 Agents Playground, on the embedded SQLite store (DATABASE_URL names PostgreSQL for several instances).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import ValidationError

from bot import overview_routes
from bot.bearer_tokens import EntraTokens
from bot.dialogue_pointer import DialoguePointer
from bot.host import Host, create_host
from bot.logging_setup import configure as configure_logging
from bot.openid_keys import OpenIdKeys
from bot.proactive import ProactiveSender
from bot.reminder_routes import ReminderRoutes
from bot.routes import Routes
from bot.teams_bot import HomeWorkBot
from cards.item_screens import ItemScreens
from cards.overview_screens import OverviewScreens, tab_link
from cards.reminder_screens import ReminderScreens
from cards.renderer import CardRenderer
from cards.screens import Screens
from core import policy as policies
from core.reminders import week_of
from core.schedule import WeeklySlot
from core.version import VERSION
from dialogs.access import Access
from dialogs.action_items import ActionItemAnswers
from dialogs.agreement_answers import AgreementAnswers
from dialogs.data_requests import DataRequests
from dialogs.follow_up import FollowUp
from dialogs.manager_dialogue import ManagerDialogue
from dialogs.overview_chat import OverviewChat
from dialogs.own_request import OwnRequest
from dialogs.reminder_answers import ReminderAnswers
from dialogs.reminder_messages import ReminderMessages
from dialogs.routes import Router
from dialogs.self_check import SelfCheckFlow
from dialogs.status import Status
from dialogs.substitutes import Substitutes
from directory.cache import AnswerCache
from directory.graph_directory import GraphDirectory
from reminders.clock import Clock
from reminders.delivery import Delivery
from reminders.planner import Planner
from reminders.scheduler import ReminderScheduler, closed_days
from settings import Settings
from store.action_items import ActionItemStore
from store.conversations import ConversationStore
from store.database import Database, StoreError
from store.dialogues import DialogueStore
from store.key_values import KeyValueStore
from store.outbox import Outbox
from store.personal_data import PersonalData
from store.reminders import ReminderStore
from store.requests import RequestStore
from store.self_checks import SelfCheckStore
from store.substitutes import SubstituteStore

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
    problem = settings.reminder_problem()
    if problem:
        raise StartupRefused(f"Reminder settings: {problem}.")
    problem = settings.access_problem()
    if problem:
        raise StartupRefused(f"Access settings: {problem}.")
    if settings.checks_directory:
        from sharepoint.credentials import credential_problem

        problem = credential_problem(settings)
        if problem:
            raise StartupRefused(f"Access checks need Graph: {problem}.")
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
    log_access_checks(settings)


def log_access_checks(settings: Settings) -> None:
    """Say at start which access checks are on (ids and names are never logged)."""
    if not settings.checks_directory:
        why = "local mode" if settings.local_mode else "ACCESS_CHECKS=off"
        log.warning(
            "ACCESS CHECKS OFF (%s): the manager of an employee is not checked in Entra ID;"
            " HR is read only from HR_USERS (%d users).",
            why,
            len(settings.hr_units),
        )
        return
    log.info(
        "access checks on through Graph: the employee's manager, a named substitute or HR for"
        " the unit leads a dialogue; HR from %d groups and %d listed users; %d work-environment"
        " groups; managers' group %s; answers kept %g min; a directory that does not answer"
        " refuses the action.",
        len(settings.hr_group_units),
        len(settings.hr_units),
        len(settings.work_environment_units),
        "named" if settings.manager_group_id else "not named (any user may start)",
        settings.access_cache_minutes,
    )


def store_of(settings: Settings) -> Database:
    """The store the settings name (not opened yet); a bad DATABASE_URL refuses the start."""
    try:
        return Database.from_settings(settings)
    except StoreError as error:
        raise StartupRefused(f"Database settings: {error}.") from None


async def open_store(db: Database) -> None:
    """Connect and migrate; one line, no traceback, when the database cannot be used."""
    try:
        await db.open()
    except StoreError as error:
        raise StartupRefused(f"Cannot start: {error}.") from None
    log.info("store ready (%s, schema revision %s)", db.engine_name, await db.schema_version())


RETENTION_EVERY = timedelta(days=1)
RETENTION_FIRST_AFTER = timedelta(minutes=1)


async def retention_loop(data: PersonalData, retention_days: int, sharepoint: bool) -> None:
    """The daily retention job: self-check answers older than RETENTION_DAYS go. It first
    runs a minute after start, when the store is open and start-up is over."""
    await asyncio.sleep(RETENTION_FIRST_AFTER.total_seconds())
    while True:
        try:
            now = datetime.now(UTC)
            removed = await data.purge_self_checks(now, retention_days)
            pulses = await data.purge_pulses(now, retention_days)
            items = await data.purge_action_items(now, retention_days, sharepoint=sharepoint)
            requests = await data.purge_requests(now, retention_days)
            log.info(
                "retention: %s self-checks, %s pulse answers, %s closed action items and %s"
                " requests deleted",
                removed,
                pulses,
                items,
                requests,
            )
        except Exception as error:  # noqa: BLE001 - try again tomorrow
            log.error("retention job failed: %s", type(error).__name__)
        await asyncio.sleep(RETENTION_EVERY.total_seconds())


REMINDERS = web.AppKey("reminders", ReminderScheduler)
WARMING = web.AppKey("warming", asyncio.Task)
#: The channel's signing keys (bot/openid_keys.py), when an app id is set.
CHANNEL_KEYS = web.AppKey("channel_keys", OpenIdKeys)
CLOCK = web.AppKey("clock", Clock)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def reminder_scheduler(
    settings: Settings,
    db: Database,
    host: Host,
    people: ConversationStore,
    dialogues: DialogueStore,
    self_checks: SelfCheckStore,
    renderer: CardRenderer,
    clock: Clock,
    access: Access,
) -> ReminderScheduler:
    """The weekly reminders: who gets what (planner), the cards, and their delivery; the
    digest asks ``access`` who leads whom now (when its checks are on)."""
    store = ReminderStore(db)
    planner = Planner(
        dialogues,
        self_checks,
        store,
        lambda: closed_days(clock.today().year),
        ActionItemStore(db),
        RequestStore(db),
        access,
    )
    transport = host.reminder_transport(people, settings.force_locale)
    compose = ReminderMessages(planner, ReminderScreens(renderer), clock.today)
    slot = WeeklySlot(WEEKDAYS.index(settings.reminder_weekday), settings.reminder_time, clock.zone)
    delivery = Delivery(store, transport, compose)  # leases and retries run on real time
    return ReminderScheduler(store, planner, delivery, slot, clock=clock.now)


def reminder_callers(settings: Settings) -> EntraTokens | None:
    """The Entra ID token check of the reminder endpoints, when callers are named."""
    if not settings.reminder_callers:
        return None
    return EntraTokens(
        OpenIdKeys(settings.entra_metadata_url),
        settings.microsoft_app_id,
        settings.microsoft_app_tenant_id,
        settings.reminder_callers,
    )


def use_policy(settings: Settings) -> None:
    """The guidance as data; the bot does not start on a policy file with a problem."""
    try:
        policies.use(policies.load(settings.policy_file))
    except policies.PolicyError as error:
        raise StartupRefused(f"Policy file: {error}") from None


def access_of(
    settings: Settings,
    dialogues: DialogueStore,
    substitutes: SubstituteStore,
    requests: RequestStore,
) -> Access:
    """The access rules from the settings; the directory is set while it is open
    (``open_directory``)."""
    access = Access(
        dialogues,
        substitutes,
        hr_users=settings.hr_units,
        hr_groups=settings.hr_group_units,
        work_environment_groups=settings.work_environment_units,
        manager_group=settings.manager_group_id,
        requests=requests,
    )
    access.set_med(settings.med_units, settings.med_group_units)
    return access


@contextlib.asynccontextmanager
async def open_directory(settings: Settings, access: Access) -> AsyncIterator[None]:
    """With the access checks on: Graph for the directory questions, with its own short
    timeout and Retry-After window (a throttled SharePoint sync does not hold turns)."""
    if not settings.checks_directory:
        yield
        return
    from sharepoint.runtime import graph

    quick = settings.model_copy(update={"graph_timeout": settings.access_timeout})
    async with graph(quick) as client:
        access.directory = GraphDirectory(client, AnswerCache(settings.access_cache_minutes * 60))
        try:
            yield
        finally:
            access.directory = None


def create_app(settings: Settings) -> web.Application:
    check_mode(settings)
    use_policy(settings)
    app = web.Application(client_max_size=settings.max_body_bytes)
    db = store_of(settings)
    zone = ZoneInfo(settings.timezone)

    def today() -> date:
        return datetime.now(zone).date()

    async def store(app: web.Application):  # first cleanup context: open before, close after
        await open_store(db)
        yield
        await db.close()

    renderer = CardRenderer()
    screens = Screens(
        renderer,
        people_picker=settings.use_people_picker,
        sharepoint=settings.sharepoint_enabled,
        today=today,
    )
    dialogues, self_checks, people = DialogueStore(db), SelfCheckStore(db), ConversationStore(db)
    requests = RequestStore(db)
    substitutes = SubstituteStore(KeyValueStore(db))
    access = access_of(settings, dialogues, substitutes, requests)
    manager = ManagerDialogue(dialogues, self_checks, people, screens, today, access)
    agreements = AgreementAnswers(dialogues, self_checks, manager, screens)
    self_check = SelfCheckFlow(self_checks, dialogues, agreements, screens, today)
    outbox = Outbox(db) if settings.sharepoint_enabled else None
    items = ActionItemAnswers(ActionItemStore(db), ItemScreens(renderer), today)
    clock = Clock(zone)
    reminder_answers = ReminderAnswers(
        ReminderStore(db), ReminderScreens(renderer), lambda: week_of(clock.today())
    )
    host = create_host(settings)
    bot = HomeWorkBot(
        Router(
            manager,
            self_check,
            agreements,
            Status(dialogues, self_checks, agreements, screens, items, outbox),
            DataRequests(PersonalData(db), dialogues, screens, access.hr_units, substitutes),
            reminder_answers,
            screens,
            items,
            FollowUp(dialogues, requests, manager, screens, today),
            OwnRequest(requests, self_checks, people, manager, screens, today),
            access,
            Substitutes(substitutes, people, access),
            OverviewChat(
                db,
                access,
                OverviewScreens(renderer),
                k=settings.overview_min_group,
                today=today,
                link=tab_link(settings.overview_app_id, overview_routes.page_url(settings)),
            ),
        ),
        people,
        DialoguePointer(KeyValueStore(db)),
        ProactiveSender(host.channel, people),
        forced_locale=settings.force_locale,
    )
    host.serve(bot)
    Routes(settings, host, db).install(app)
    overview_routes.install(app, settings, db, access, today)
    reminders = reminder_scheduler(
        settings, db, host, people, dialogues, self_checks, renderer, clock, access
    )
    app[REMINDERS], app[CLOCK] = reminders, clock
    ReminderRoutes(
        settings.reminders_run_secret.get_secret_value(),
        reminders,
        ReminderStore(db),
        reminder_callers(settings),
    ).install(app)

    async def close_clients(app: web.Application) -> None:
        await host.close()

    tokens = host.channel_tokens
    if tokens is not None:
        app[CHANNEL_KEYS] = tokens.keys

    async def warm_keys(app: web.Application) -> None:
        """In production, fetch the channel's signing keys in the background at start: the
        first turns wait for that fetch only, and nothing else does. Elsewhere the first
        authenticated turn fetches them (also without blocking the others), so that a
        development start reaches no service before it is used."""
        if tokens is not None and settings.app_env == "production":
            app[WARMING] = asyncio.create_task(tokens.keys.warm())

    app.on_startup.append(warm_keys)

    async def retention(app: web.Application):  # an aiohttp cleanup context
        task = asyncio.create_task(
            retention_loop(PersonalData(db), settings.retention_days, settings.sharepoint_enabled)
        )
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

        async with graph(settings) as client:
            sync = syncer(db, client, settings)
            task = asyncio.create_task(sync.run())
            log.info("SharePoint sync on")
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            # The last turns have finished: what they saved goes to SharePoint now, if it can.
            tried = await sync.flush(settings.sharepoint_flush_seconds)
            log.info("SharePoint sync stopped; %d pending entries tried at shutdown", tried)

    async def weekly_reminders(app: web.Application):  # an aiohttp cleanup context
        task = None
        if settings.reminder_scheduler == "internal":
            task = asyncio.create_task(reminders.run_forever())
        yield
        if task:
            reminders.stop()  # sends under way finish; nothing new starts
            await task

    async def directory(app: web.Application):  # an aiohttp cleanup context
        async with open_directory(settings, access):
            yield

    # Cleanup contexts start in this order and stop in the reverse: the store is open before
    # any background job starts and closes after the last one has stopped.
    app.cleanup_ctx.append(store)
    app.cleanup_ctx.append(directory)
    app.cleanup_ctx.append(retention)
    app.cleanup_ctx.append(sharepoint_sync)
    app.cleanup_ctx.append(weekly_reminders)
    app.on_cleanup.append(close_clients)
    return app


async def run_reminders_once(settings: Settings, at: datetime | None) -> dict:
    """One reminder run without the web server: ``python app.py reminders run [--at ISO]``,
    for a cron job or a rerun of a week (``--at`` moves the reminders' clock)."""
    check_mode(settings)
    db = store_of(settings)
    await open_store(db)
    host = create_host(settings)
    clock = Clock(ZoneInfo(settings.timezone))
    if at is not None:
        clock.set(at)
    dialogues = DialogueStore(db)
    access = access_of(settings, dialogues, SubstituteStore(KeyValueStore(db)), RequestStore(db))
    scheduler = reminder_scheduler(
        settings,
        db,
        host,
        ConversationStore(db),
        dialogues,
        SelfCheckStore(db),
        CardRenderer(),
        clock,
        access,
    )
    gc.freeze()  # as in main(): start-up objects out of the collector's sight
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, scheduler.stop)  # finish the sends under way, then stop
    try:
        async with open_directory(settings, access):  # the digest asks who leads whom
            return await scheduler.run_once()
    finally:
        await host.close()
        await db.close()


def read_settings() -> Settings:
    """The settings, or one line per setting that is wrong (never a traceback)."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper() or 'settings'}: {e['msg']}"
            for e in error.errors()
        )
        raise StartupRefused(f"Settings: {problems}.") from None


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    settings = read_settings()
    configure_logging(settings.log_level, settings.log_format)
    if argv[:2] == ["reminders", "run"]:
        at = datetime.fromisoformat(argv[3]) if argv[2:3] == ["--at"] and len(argv) > 3 else None
        print(json.dumps(asyncio.run(run_reminders_once(settings, at))))
        return
    log.info(
        "Hjemmearbejdsdialog %s starting on %s:%s (SDK: %s)",
        VERSION,
        settings.host,
        settings.port,
        settings.bot_sdk,
    )
    app = create_app(settings)
    # What the imports and the start-up built (a few hundred thousand objects: botbuilder,
    # msrest, aiohttp, the card templates) lives as long as the process: out of the
    # collector's sight, a full collection no longer walks it and stalls every turn under way.
    gc.freeze()
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=30,
    )


if __name__ == "__main__":
    main()
