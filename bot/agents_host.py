"""The Microsoft 365 Agents SDK 1.9 host (BOT_SDK=agents): its aiohttp CloudAdapter carries
the activities in and the bot's messages out; what is the SDK's in a turn is :data:`PARTS` (bot/sdk_turn.py).

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

from bot.agents_reminder_transport import AgentsReminderTransport
from bot.host import ActivityUnreadable, channel_tokens
from bot.sdk_turn import Delivery, SdkHost, SdkParts
from bot.turn_port import Turn
from dialogs.turn import Reply
from settings import Settings
from store.conversations import ConversationStore

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


def _reference_of(activity: Activity) -> dict[str, Any]:
    reference = activity.get_conversation_reference()
    reference.activity_id = None
    return reference.model_dump(by_alias=True, exclude_none=True, mode="json")


PARTS = SdkParts(
    text=MessageFactory.text,
    card=card_message,
    reference_of=_reference_of,
    mention_free=Activity.remove_recipient_mention,
    invoke_answer=lambda body: Activity(
        type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
    ),
)


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
        self.connections = connection_manager
        self.local = local

    async def token(self, claims_identity: ClaimsIdentity, service_url: str) -> str:
        """The bot's token for the connector at ``service_url`` ("" in local mode), from the
        provider create_connector_client takes it from."""
        if self.local:
            return ""
        provider = self.connections.get_token_provider(claims_identity, service_url)
        return await provider.get_access_token(CHANNEL_AUDIENCE, claims_identity.get_token_scope())

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


class AgentsChannel:
    def __init__(self, adapter: CloudAdapter, identity: ClaimsIdentity, app_id: str) -> None:
        self.adapter = adapter
        self.identity = identity
        self.app_id = app_id

    async def continue_with(self, reference: dict[str, Any], replies: list[Reply]) -> str | None:
        delivery = Delivery(PARTS, replies)
        continuation = ConversationReference.model_validate(reference).get_continuation_activity()
        await self.adapter.continue_conversation_with_claims(
            self.identity, continuation, delivery.into, CHANNEL_AUDIENCE
        )
        return delivery.error

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
        delivery = Delivery(PARTS, replies)
        return await delivery.create(
            lambda: self.adapter.create_conversation(
                self.app_id,
                str(activity.channel_id),
                activity.service_url,
                CHANNEL_AUDIENCE,
                parameters,
                delivery.into_new_chat,
            )
        )


class AgentsHost(SdkHost):
    name = "agents"
    parts = PARTS

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
        response = await self.adapter.process_activity(identity, activity, self.turn)
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
