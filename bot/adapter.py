"""botbuilder's CloudAdapter with channel authentication (bot/connector_cache.py)."""

from __future__ import annotations

from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)

from bot.connector_cache import CachingBotFrameworkAuthentication
from bot.host import channel_tokens
from settings import Settings


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


def create_adapter(settings: Settings) -> CloudAdapter:
    auth = CachingBotFrameworkAuthentication(
        ConfigurationBotFrameworkAuthentication(BotFrameworkConfig(settings)),
        channel_tokens(settings),
    )
    return CloudAdapter(auth)
