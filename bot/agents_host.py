"""The Microsoft 365 Agents SDK 1.9 host (BOT_SDK=agents): its aiohttp CloudAdapter carries
the activities in and the bot's messages out; a turn is its TurnContext wrapped as a
:class:`bot.turn_port.Turn`.

What is the SDK's own and what is ours:

- Outbound, the SDK's: the connector client (``TeamsConnectorClient`` over aiohttp) and the
  bot's token from ``MsalConnectionManager`` (client secret or a user-assigned managed
  identity). In local mode the SDK's ``AnonymousTokenProvider`` stands in: no token is sent.
- Inbound, ours (bot/bearer_tokens.py), as on the botbuilder host: the SDK's
  ``JwtTokenValidator`` takes the keys from fixed JWKS addresses (CHANNEL_OPENID_METADATA_URL
  cannot point it elsewhere), checks the issuer only on request and neither the key's
  endorsement for the channel nor the ``serviceurl`` claim, which the Bot Framework's
  authentication documentation asks for. The claims of a checked token become the SDK's
  ``ClaimsIdentity``.
"""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
    InvokeResponse,
)
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    AuthenticationConstants,
    AuthTypes,
    CardFactory,
    ClaimsIdentity,
    ConnectionManager,
    MessageFactory,
    RestChannelServiceClientFactory,
    TurnContext,
)
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from microsoft_agents.hosting.core.connector.client import UserTokenClient
from pydantic import ValidationError

from bot.activity_facts import without_mentions
from bot.agents_reminder_transport import AgentsReminderTransport
from bot.host import ActivityUnreadable, channel_tokens
from bot.teams_bot import HomeWorkBot
from bot.turn_port import Turn, attempt, messages
from dialogs.turn import Reply
from settings import Settings
from store.conversations import ConversationStore

log = logging.getLogger(__name__)

#: The audience of the bot's outbound token: the Bot Connector service.
CHANNEL_AUDIENCE = AuthenticationConstants.AGENTS_SDK_SCOPE
#: MICROSOFT_APP_TYPE as the SDK's AUTHTYPE.
AUTH_TYPES = {
    "SingleTenant": AuthTypes.client_secret,
    "MultiTenant": AuthTypes.client_secret,
    "UserAssignedMSI": AuthTypes.user_managed_identity,
}


def card_message(card: dict[str, Any]) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


def _messages(replies: list[Reply]) -> list[Activity]:
    return messages(replies, MessageFactory.text, card_message)


def _reference_of(activity: Activity) -> dict[str, Any]:
    reference = activity.get_conversation_reference()
    reference.activity_id = None
    return reference.model_dump(by_alias=True, exclude_none=True, mode="json")


def connections(settings: Settings) -> ConnectionManager:
    """The SDK's source of the bot's outbound token: MSAL with the app's identity, or in local
    mode no token at all."""
    if settings.local_mode:
        return ConnectionManager(
            provider_factory=lambda _configuration: AnonymousTokenProvider(),
            connections_configurations={
                "SERVICE_CONNECTION": AgentAuthConfiguration(anonymous_allowed=True)
            },
        )
    tenant = settings.microsoft_app_tenant_id
    if settings.microsoft_app_type == "MultiTenant":
        tenant = tenant or "botframework.com"
    configuration = AgentAuthConfiguration(
        auth_type=AUTH_TYPES[settings.microsoft_app_type],
        client_id=settings.microsoft_app_id,
        tenant_id=tenant,
        client_secret=settings.microsoft_app_password.get_secret_value() or None,
    )
    return MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": configuration})


class BotClientFactory(RestChannelServiceClientFactory):
    """The SDK's client factory, with two choices of this bot: in local mode no token is
    fetched for any client (the Agents Playground takes none), and the user-token client
    (for signing a user in with an OAuth card, which this bot never does) gets no token, so
    a turn does not ask Entra for one it would not use."""

    def __init__(self, connection_manager: ConnectionManager, local: bool) -> None:
        super().__init__(connection_manager)
        self.local = local

    async def create_connector_client(
        self,
        context: TurnContext | None,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> ConnectorClientBase:
        return await super().create_connector_client(
            context, claims_identity, service_url, audience, scopes, use_anonymous or self.local
        )

    async def create_user_token_client(
        self, context: TurnContext, claims_identity: ClaimsIdentity, use_anonymous: bool = False
    ) -> UserTokenClient:
        return await super().create_user_token_client(context, claims_identity, True)


class AgentsTurn:
    def __init__(self, context: TurnContext) -> None:
        self.context = context

    @property
    def activity(self) -> Activity:
        return self.context.activity

    def reference(self) -> dict[str, Any]:
        return _reference_of(self.activity)

    def typed_text(self) -> str:
        text = self.activity.text if isinstance(self.activity.text, str) else ""
        try:
            text = self.activity.remove_recipient_mention() or text
        except (AttributeError, TypeError, KeyError, ValueError):  # odd mention: tags go below
            pass
        return without_mentions(text)

    async def send(self, replies: list[Reply]) -> None:
        activities = _messages(replies)
        if activities:
            await self.context.send_activities(activities)

    async def replace(self, card: dict[str, Any], activity_id: str) -> None:
        replacement = card_message(card)
        replacement.id = activity_id
        await self.context.update_activity(replacement)

    async def answer_invoke(self, body: dict[str, Any] | None) -> None:
        await self.context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
            )
        )


class AgentsChannel:
    def __init__(self, adapter: CloudAdapter, identity: ClaimsIdentity, app_id: str) -> None:
        self.adapter = adapter
        self.identity = identity
        self.app_id = app_id

    async def continue_with(self, reference: dict[str, Any], replies: list[Reply]) -> str | None:
        outcome: dict[str, str | None] = {"error": "not sent"}

        async def deliver(context: TurnContext) -> None:
            outcome["error"] = await attempt(lambda: context.send_activities(_messages(replies)))

        continuation = ConversationReference.model_validate(reference).get_continuation_activity()
        await self.adapter.continue_conversation_with_claims(
            self.identity, continuation, deliver, CHANNEL_AUDIENCE
        )
        return outcome["error"]

    async def create_with(
        self, user_id: str, tenant: str | None, via: Turn, replies: list[Reply]
    ) -> tuple[dict[str, Any] | None, str | None]:
        activity = via.activity
        parameters = ConversationParameters(
            is_group=False,
            agent=activity.recipient,
            members=[ChannelAccount(id=user_id, aad_object_id=user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        found: dict[str, Any] = {"reference": None, "error": "not sent"}

        async def deliver(context: TurnContext) -> None:
            found["reference"] = _reference_of(context.activity)
            found["error"] = await attempt(lambda: context.send_activities(_messages(replies)))

        try:
            await self.adapter.create_conversation(
                self.app_id,
                str(activity.channel_id),
                activity.service_url,
                CHANNEL_AUDIENCE,
                parameters,
                deliver,
            )
        except Exception as error:  # noqa: BLE001 - the user is unreachable
            log.warning("could not create a 1:1 chat: %s", type(error).__name__)
            return None, type(error).__name__
        return found["reference"], found["error"]


class AgentsHost:
    name = "agents"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.factory = BotClientFactory(connections(settings), settings.local_mode)
        self.adapter = CloudAdapter(channel_service_client_factory=self.factory)
        self.channel_tokens = channel_tokens(settings)
        # The bot's own identity for the messages it starts; anonymous in local mode.
        self.identity = (
            ClaimsIdentity()
            if settings.local_mode
            else self.adapter.create_claims_identity(settings.microsoft_app_id)
        )
        self.channel = AgentsChannel(self.adapter, self.identity, settings.microsoft_app_id)
        self._bot: HomeWorkBot | None = None

    def serve(self, bot: HomeWorkBot) -> None:
        self._bot = bot

        async def on_error(context: TurnContext, error: Exception) -> None:
            await bot.on_error(AgentsTurn(context), error)

        self.adapter.on_turn_error = on_error

    def read(self, body: dict[str, Any]) -> Activity:
        # botbuilder skips a null member of a conversationUpdate; the SDK's model refuses
        # the whole activity for it.
        for key in ("membersAdded", "membersRemoved"):
            if isinstance(body.get(key), list):
                body = {**body, key: [m for m in body[key] if m is not None]}
        try:
            return Activity.model_validate(body)
        except (ValidationError, ValueError, TypeError, AttributeError):
            raise ActivityUnreadable from None

    async def authenticate(self, activity: Activity, auth_header: str) -> ClaimsIdentity:
        if self.channel_tokens is None:  # local mode: the SDK's anonymous identity
            return ClaimsIdentity()
        claims = await self.channel_tokens.claims(
            auth_header or "", str(activity.channel_id), activity.service_url
        )
        return ClaimsIdentity(claims, "Bearer")

    async def process(self, identity: Any, activity: Activity) -> tuple[int, Any] | None:
        bot = self._bot
        assert bot is not None, "serve(bot) first"

        async def turn(context: TurnContext) -> None:
            await bot.on_turn(AgentsTurn(context))

        response = await self.adapter.process_activity(identity, activity, turn)
        if activity.type != ActivityTypes.invoke:
            return None
        if response is None:
            return 501, None
        return int(response.status or 501), response.body

    def reminder_transport(
        self, conversations: ConversationStore, forced_locale: str
    ) -> AgentsReminderTransport:
        return AgentsReminderTransport(
            self.factory, self.identity, card_message, conversations, forced_locale
        )

    async def close(self) -> None:
        """The SDK closes its connector clients after each turn; the key fetcher is ours."""
        if self.channel_tokens is not None:
            await self.channel_tokens.keys.close()
