"""The baseline: a bare botbuilder echo bot on the same CloudAdapter and aiohttp stack.

``python -m bench.echo_bot PORT [--cached]``. Its time per turn is what botbuilder, aiohttp
and one reply to the connector cost; the dialogue bot is measured against it. ``--cached``
gives it the same kept clients and Bot Connector client the dialogue bot uses
(bot/connector_cache.py, bot/connector_http.py), so that the ratio against it shows the cost
of the dialogue bot's own code alone.
"""

from __future__ import annotations

import sys

from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity

from bot.connector_cache import CachingBotFrameworkAuthentication


class _Config:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(f"echo: {turn_context.activity.text}")


def main() -> None:
    auth = ConfigurationBotFrameworkAuthentication(_Config())
    if "--cached" in sys.argv:
        auth = CachingBotFrameworkAuthentication(auth)
    adapter = CloudAdapter(auth)
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        activity = Activity().deserialize(await request.json())
        await adapter.process_activity(
            request.headers.get("Authorization", ""), activity, bot.on_turn
        )
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
