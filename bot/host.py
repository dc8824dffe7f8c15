"""The SDK that carries activities in and out (BOT_SDK): what the rest of the app asks of it.

``create_host`` is the one place that picks botbuilder (bot/botbuilder_host.py) or the
Microsoft 365 Agents SDK (bot/agents_host.py); only the chosen SDK is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from bot.bearer_tokens import ChannelTokens
from bot.openid_keys import OpenIdKeys
from bot.turn_port import Channel
from reminders.delivery import Transport
from settings import Settings
from store.conversations import ConversationStore

if TYPE_CHECKING:
    from bot.teams_bot import HomeWorkBot

#: Where the Bot Connector service publishes its signing keys (the public cloud), as both
#: SDKs name it.
CHANNEL_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"


class ActivityUnreadable(Exception):
    """The body is JSON with the activity's fields, but the SDK cannot read it."""


class Host(Protocol):
    name: str
    channel: Channel
    #: The check of the channel's tokens; None in local mode.
    channel_tokens: ChannelTokens | None

    def serve(self, bot: HomeWorkBot) -> None:
        """The bot whose turns this host runs (and whose error handler it calls)."""

    def read(self, body: dict[str, Any]) -> Any:
        """The SDK's activity, or ActivityUnreadable."""

    async def authenticate(self, activity: Any, auth_header: str) -> Any:
        """The caller's identity, or an exception when the token is refused."""

    async def process(self, identity: Any, activity: Any) -> tuple[int, Any] | None:
        """Run the turn; an invoke's HTTP status and JSON body, None for other activities."""

    def reminder_transport(self, conversations: ConversationStore, forced_locale: str) -> Transport:
        """The reminders' sender (reminders/delivery.py)."""

    async def close(self) -> None:
        """Close the outbound clients and the key fetcher."""


def channel_tokens(settings: Settings) -> ChannelTokens | None:
    """The check of channel tokens, None in local mode."""
    if settings.local_mode:
        return None
    keys = OpenIdKeys(settings.channel_openid_metadata_url or CHANNEL_METADATA_URL)
    return ChannelTokens(keys, settings.microsoft_app_id, settings.channel_token_issuer)


def create_host(settings: Settings) -> Host:
    if settings.bot_sdk == "agents":
        from bot.agents_host import AgentsHost

        return AgentsHost(settings)
    from bot.botbuilder_host import BotbuilderHost

    return BotbuilderHost(settings)
