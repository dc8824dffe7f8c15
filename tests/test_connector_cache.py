"""The kept outbound clients: one per service URL, cards serialised exactly as msrest would."""

from __future__ import annotations

import datetime
import json

import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Mention,
    SuggestedActions,
)
from botbuilder.schema.teams import TeamsChannelData, TenantInfo
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials

from bot.adapter import BotFrameworkConfig
from bot.connector_cache import CachingBotFrameworkAuthentication, plain_json_objects
from bot.connector_http import ConnectorResponseError, FastConversations, activity_body
from settings import Settings
from tests.card_catalogue import all_cards
from tests.connector import LocalConnector


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


def teams_activity(card: dict | None = None, **fields) -> Activity:
    """An outgoing activity as botbuilder shapes it for a Teams chat."""
    activity = (
        MessageFactory.attachment(CardFactory.adaptive_card(card))
        if card is not None
        else MessageFactory.text("Hej <at>Mette</at> – æøå")
    )
    reference = ConversationReference(
        activity_id="1",
        user=ChannelAccount(id="29:u", name="Mette", aad_object_id="oid"),
        bot=ChannelAccount(id="28:b", name="Hjemmearbejde"),
        conversation=ConversationAccount(
            id="a:1", tenant_id="tenant", conversation_type="personal"
        ),
        channel_id="msteams",
        service_url="http://127.0.0.1:9/",
        locale="da-DK",
    )
    activity = TurnContext.apply_conversation_reference(activity, reference)
    for name, value in fields.items():
        setattr(activity, name, value)
    return activity


def test_the_aiohttp_body_is_the_one_msrest_would_send():
    msrest = client()._serialize
    variants = [
        teams_activity(),
        teams_activity(
            entities=[
                Mention(
                    mentioned=ChannelAccount(id="29:u", name="Mette"),
                    text="<at>Mette</at>",
                    type="mention",
                )
            ],
            channel_data=TeamsChannelData(tenant=TenantInfo(id="t")),
            timestamp=datetime.datetime(2026, 3, 29, 1, 59, 59, 999000, datetime.UTC),
            suggested_actions=SuggestedActions(
                actions=[CardAction(type="imBack", title="Ja", value="ja")]
            ),
            value={"nested": [TenantInfo(id="inside free-form JSON")], "n": 1.5},
        ),
    ]
    variants += [teams_activity(card) for _, card in list(all_cards())[::7]]
    for activity in variants:
        assert json.loads(activity_body(activity, msrest)) == msrest.body(activity, "Activity")


async def test_sends_replies_and_updates_go_out_on_aiohttp_as_the_rest_api_says():
    connector = LocalConnector()
    await connector.start()
    auth = CachingBotFrameworkAuthentication(
        ConfigurationBotFrameworkAuthentication(BotFrameworkConfig(Settings(_env_file=None)))
    )
    try:
        found = await auth.authenticate_request(Activity(service_url=connector.url), "")
        kept = await found.connector_factory.create(connector.url, found.audience)
        assert isinstance(kept.conversations, FastConversations)
        # A Teams channel thread's id has ':', '@' and ';' in it: quoted in the path.
        thread = "19:abc@thread.tacv2;messageid=17"
        card = list(all_cards())[0][1]
        sent = await kept.conversations.send_to_conversation(thread, teams_activity(card))
        reply = await kept.conversations.reply_to_activity(thread, sent.id, teams_activity())
        changed = teams_activity({**card, "version": "1.4"})
        updated = await kept.conversations.update_activity(thread, sent.id, changed)
        assert [s.conversation_id for s in connector.sent] == [thread, thread]
        assert reply.id == connector.sent[1].id and updated.id == sent.id
        assert connector.by_id[sent.id].card["version"] == "1.4"
        assert connector.authorizations == [None, None, None]  # local mode: no token
        with pytest.raises(ConnectorResponseError) as unknown:
            await kept.conversations.update_activity(thread, "no-such-id", changed)
        assert unknown.value.response.status_code == 404
        connector.faults_in[thread] = [429]
        with pytest.raises(ConnectorResponseError) as throttled:
            await kept.conversations.send_to_conversation(thread, teams_activity())
        assert throttled.value.response.status_code == 429
        assert throttled.value.response.headers.get("retry-after") == "1"
    finally:
        await auth.close()
        await connector.stop()


def test_the_proxy_comes_from_the_environment_as_with_requests(monkeypatch):
    from bot.connector_http import _proxy_for

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.kommune.example:8080")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    _proxy_for.cache_clear()
    try:
        assert _proxy_for("https", "smba.trafficmanager.net") == "http://proxy.kommune.example:8080"
        assert _proxy_for("http", "127.0.0.1") is None
    finally:
        _proxy_for.cache_clear()
