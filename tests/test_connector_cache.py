"""The kept outbound clients: one per service URL, cards serialised exactly as msrest would."""

from __future__ import annotations

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, Attachment
from botbuilder.schema.teams import TeamsChannelData, TenantInfo
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials

from bot.adapter import BotFrameworkConfig
from bot.connector_cache import CachingBotFrameworkAuthentication, plain_json_objects
from settings import Settings
from tests.card_catalogue import all_cards


def client() -> ConnectorClient:
    return ConnectorClient(MicrosoftAppCredentials.empty(), base_url="http://127.0.0.1:9/")


def test_cards_serialise_the_same_as_with_msrest():
    plain, fast = client(), plain_json_objects(client())
    for _, card in list(all_cards())[:40]:
        activity = Activity(
            type="message",
            attachments=[
                Attachment(content_type="application/vnd.microsoft.card.adaptive", content=card)
            ],
            channel_data=TeamsChannelData(tenant=TenantInfo(id="t")),
            value={"verb": "next", "n": 1.5, "ok": True, "none": None},
        )
        assert fast._serialize.body(activity, "Activity") == plain._serialize.body(
            activity, "Activity"
        )


async def test_one_client_per_service_url_and_closed_at_the_end():
    settings = Settings(_env_file=None)
    auth = CachingBotFrameworkAuthentication(
        ConfigurationBotFrameworkAuthentication(BotFrameworkConfig(settings))
    )
    activity = Activity(type="message", service_url="http://127.0.0.1:9/", channel_id="msteams")
    first = await auth.authenticate_request(activity, "")
    second = await auth.authenticate_request(activity, "")
    a = await first.connector_factory.create("http://127.0.0.1:9/", first.audience)
    b = await second.connector_factory.create("http://127.0.0.1:9/", second.audience)
    c = await second.connector_factory.create("http://127.0.0.1:8/", second.audience)
    assert a is b and a is not c
    token_a = await auth.create_user_token_client(first.claims_identity)
    assert token_a is await auth.create_user_token_client(second.claims_identity)
    await auth.close()
    assert a is not await first.connector_factory.create("http://127.0.0.1:9/", first.audience)
    await auth.close()
