"""The botbuilder CloudAdapter with channel authentication and a friendly turn-error handler."""

from __future__ import annotations

import logging
import traceback

from botbuilder.core import InvokeResponse, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import AuthenticationConstants

from bot.bearer_tokens import ChannelTokens
from bot.connector_cache import CachingBotFrameworkAuthentication
from bot.invoke_bodies import invoke_error
from bot.openid_keys import OpenIdKeys
from core.texts import pick_locale, texts_for
from settings import Settings

log = logging.getLogger(__name__)


class BotFrameworkConfig:
    """The attribute names botbuilder's ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.microsoft_app_id
        self.APP_PASSWORD = settings.microsoft_app_password.get_secret_value()
        # botbuilder reads an empty app id as "no authentication" only for MultiTenant.
        self.APP_TYPE = "MultiTenant" if settings.local_mode else settings.microsoft_app_type
        self.APP_TENANTID = settings.microsoft_app_tenant_id
        if settings.channel_openid_metadata_url or settings.channel_token_issuer:
            # Any of these switches botbuilder to its "parameterized" cloud, which then needs
            # every endpoint: where tokens are checked, and where the bot gets its own.
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.channel_openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = settings.channel_token_issuer
            tenant = settings.microsoft_app_tenant_id or "botframework.com"
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = f"https://login.microsoftonline.com/{tenant}"
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = "https://api.botframework.com"


def where(error: BaseException) -> str:
    """Where an error happened (file:line in function), without its message: messages can
    carry what a user typed, and logs must not."""
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    return " <- ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in reversed(frames)
    )


#: Where the Bot Connector service publishes its signing keys (the public cloud).
CHANNEL_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL


def channel_tokens(settings: Settings) -> ChannelTokens | None:
    """The check of channel tokens, None in local mode."""
    if settings.local_mode:
        return None
    keys = OpenIdKeys(settings.channel_openid_metadata_url or CHANNEL_METADATA_URL)
    return ChannelTokens(keys, settings.microsoft_app_id, settings.channel_token_issuer)


def create_adapter(settings: Settings) -> CloudAdapter:
    auth = CachingBotFrameworkAuthentication(
        ConfigurationBotFrameworkAuthentication(BotFrameworkConfig(settings)),
        channel_tokens(settings),
    )
    adapter = CloudAdapter(auth)

    async def on_error(context: TurnContext, error: Exception) -> None:
        log.error("turn failed: %s at %s", type(error).__name__, where(error))
        texts = texts_for(settings.force_locale or pick_locale(context.activity.locale))
        try:
            if context.activity.type == ActivityTypes.invoke:
                # The invoke still gets its HTTP 200, with the error in the body.
                await context.send_activity(
                    Activity(
                        type=ActivityTypes.invoke_response,
                        value=InvokeResponse(
                            status=200, body=invoke_error(texts("commands.error"))
                        ),
                    )
                )
            await context.send_activity(MessageFactory.text(texts("commands.error")))
        except Exception as send_error:  # noqa: BLE001 - nothing more to do
            log.error("could not tell the user about the error: %s", type(send_error).__name__)

    adapter.on_turn_error = on_error
    return adapter
