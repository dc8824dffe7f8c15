"""HTTP endpoints for an external scheduler and the admin: start a reminder run, see status.

Both exist only when ``REMINDERS_RUN_SECRET`` or ``REMINDERS_CALLER_IDS`` is set, and answer
401 unless the request carries ``Authorization: Bearer <secret>`` (compared in constant time)
or an Entra ID access token of an allowed caller, such as a scheduler's managed identity, for
the bot's app id (bot/bearer_tokens.py). A run is started in
the background and answered 202 at once (a week's sends can take a minute); a second call
while one runs is also 202 and starts nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiohttp import web

from bot.bearer_tokens import EntraTokens, TokenRefused
from reminders.scheduler import ReminderScheduler
from store.reminders import ReminderStore

log = logging.getLogger(__name__)


class ReminderRoutes:
    def __init__(
        self,
        secret: str,
        scheduler: ReminderScheduler,
        store: ReminderStore,
        entra: EntraTokens | None = None,
    ) -> None:
        self.secret = secret
        self.entra = entra
        self.scheduler = scheduler
        self.store = store
        self._task: asyncio.Task | None = None

    def install(self, app: web.Application) -> None:
        if not self.secret and self.entra is None:
            return
        app.router.add_post("/api/reminders/run", self.run)
        app.router.add_get("/api/reminders/status", self.status)
        app.on_cleanup.append(self._finish)

    async def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if (
            self.secret
            and scheme.lower() == "bearer"
            and hmac.compare_digest(token.strip().encode(), self.secret.encode())
        ):
            return True
        if self.entra is None or scheme.lower() != "bearer":
            return False
        try:
            await self.entra.caller("Bearer " + token.strip())
        except TokenRefused as refused:
            log.warning("reminders endpoint: Entra ID token refused (%s)", refused)
            return False
        log.info("reminders endpoint: called with an Entra ID token of an allowed caller")
        return True

    def _refused(self) -> web.Response:
        log.warning("reminders endpoint: refused a request without the secret or a valid token")
        return web.json_response(
            {"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )

    async def run(self, request: web.Request) -> web.Response:
        if not await self._authorised(request):
            return self._refused()
        if (self._task and not self._task.done()) or self.scheduler.busy:
            return web.json_response({"started": False, "reason": "a run is under way"}, status=202)
        self._task = asyncio.create_task(self._run())
        return web.json_response({"started": True}, status=202)

    async def _run(self) -> None:
        try:
            await self.scheduler.run_once()
        except Exception as error:  # noqa: BLE001 - logged; the next call tries again
            log.error("reminders: run failed: %s", type(error).__name__)

    async def status(self, request: web.Request) -> web.Response:
        if not await self._authorised(request):
            return self._refused()
        return web.json_response(
            {
                "running": self.scheduler.busy,
                "ledger": await self.store.counts(),
                "not_delivered": await self.store.problems(),
            }
        )

    async def _finish(self, _app: web.Application) -> None:
        if self.entra is not None:
            await self.entra.keys.close()
        if self._task and not self._task.done():
            self.scheduler.stop()
            await self._task
