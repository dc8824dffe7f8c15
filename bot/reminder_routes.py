"""HTTP endpoints for an external scheduler and the admin: start a reminder run, see status.

Both exist only when ``REMINDERS_RUN_SECRET`` is set, and answer 401 unless the request
carries ``Authorization: Bearer <secret>`` (compared in constant time). A run is started in
the background and answered 202 at once (a week's sends can take a minute); a second call
while one runs is also 202 and starts nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from aiohttp import web

from reminders.scheduler import ReminderScheduler
from store.reminders import ReminderStore

log = logging.getLogger(__name__)


class ReminderRoutes:
    def __init__(self, secret: str, scheduler: ReminderScheduler, store: ReminderStore) -> None:
        self.secret = secret
        self.scheduler = scheduler
        self.store = store
        self._task: asyncio.Task | None = None

    def install(self, app: web.Application) -> None:
        if not self.secret:
            return
        app.router.add_post("/api/reminders/run", self.run)
        app.router.add_get("/api/reminders/status", self.status)
        app.on_cleanup.append(self._finish)

    def _authorised(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.secret.encode()
        )

    def _refused(self) -> web.Response:
        log.warning("reminders endpoint: refused a request without the right bearer secret")
        return web.json_response(
            {"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )

    async def run(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
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
        if not self._authorised(request):
            return self._refused()
        return web.json_response(
            {
                "running": self.scheduler.busy,
                "ledger": await self.store.counts(),
                "not_delivered": await self.store.problems(),
            }
        )

    async def _finish(self, _app: web.Application) -> None:
        if self._task and not self._task.done():
            self.scheduler.stop()
            await self._task
