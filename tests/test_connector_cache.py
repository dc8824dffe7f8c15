"""The bot's outbound path, seen from the Bot Connector: what arrives, with which token, on
how many clients, and what a caller sees when the connector says no.

Every test sends through botbuilder's own CloudAdapter and TurnContext (as a turn or the
reminders do), so what is checked is what Teams would receive, not how it was produced.
"""

from __future__ import annotations

import asyncio
import datetime
import functools
import threading
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    Mention,
    SuggestedActions,
)
from botbuilder.schema.teams import TeamsChannelData, TenantInfo
from botframework.connector.auth import MicrosoftAppCredentials

from bot.adapter import BotFrameworkConfig
from bot.card_message import card_message
from bot.connector_cache import CachingBotFrameworkAuthentication
from bot.reminder_transport import ReminderTransport
from settings import Settings
from tests.card_catalogue import all_cards
from tests.connector import LocalConnector

APP_ID = "5f0c2d1e-7a43-4b8e-9c61-2e8d4f7a9b30"
#: A Teams channel thread's id, with ':', '@' and ';' in it.
THREAD = "19:abc@thread.tacv2;messageid=17"


@functools.cache
def catalogue() -> tuple[dict[str, Any], ...]:
    return tuple(card for _, card in all_cards())


def a_card() -> dict[str, Any]:
    return catalogue()[0]


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def local_auth() -> CachingBotFrameworkAuthentication:
    return CachingBotFrameworkAuthentication(
        ConfigurationBotFrameworkAuthentication(BotFrameworkConfig(settings()))
    )


def authenticated_auth() -> CachingBotFrameworkAuthentication:
    config = BotFrameworkConfig(
        settings(
            microsoft_app_id=APP_ID,
            microsoft_app_password="placeholder",
            microsoft_app_tenant_id="00000000-0000-0000-0000-000000000001",
        )
    )
    return CachingBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication(config))


def reference(service_url: str, conversation_id: str = "a:1") -> ConversationReference:
    return ConversationReference(
        activity_id="1",
        user=ChannelAccount(id="29:u", name="Mette", aad_object_id="oid"),
        bot=ChannelAccount(id="28:b", name="Hjemmearbejde"),
        conversation=ConversationAccount(
            id=conversation_id, tenant_id="tenant", conversation_type="personal"
        ),
        channel_id="msteams",
        service_url=service_url,
        locale="da-DK",
    )


async def in_conversation(adapter: CloudAdapter, ref: ConversationReference, logic, app_id=""):
    """Run ``logic(context)`` in a proactive turn on ``ref``; its exception is re-raised."""
    outcome: dict[str, Any] = {}

    async def callback(context: TurnContext) -> None:
        try:
            outcome["value"] = await logic(context)
        except Exception as error:  # noqa: BLE001 - handed back to the test
            outcome["error"] = error

    await adapter.continue_conversation(ref, callback, app_id)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture
async def auth() -> AsyncIterator[CachingBotFrameworkAuthentication]:
    kept = local_auth()
    yield kept
    await kept.close()


# --- what arrives ---------------------------------------------------------------------------


async def test_every_card_arrives_intact_and_complete(connector: LocalConnector, auth):
    """Each card the bot can send reaches the connector as it was rendered, whole, as a
    reply, as a new message, and as the replacement of an earlier card."""
    adapter = CloudAdapter(auth)
    ref = reference(connector.url)
    cards = list(catalogue())
    assert len(cards) > 100

    async def send_all(context: TurnContext) -> None:
        for card in cards:
            sent = await context.send_activity(card_message(card))
            replacement = card_message({**card, "fallbackText": "replaced"})
            replacement.id = sent.id
            await context.update_activity(replacement)
        await context.send_activity(card_message(cards[0]))

    await in_conversation(adapter, ref, send_all)
    assert len(connector.sent) == len(cards) + 1
    for card, sent in zip(cards, connector.sent, strict=False):
        assert sent.activity["attachments"][0]["content"] == card
        assert sent.card == {**card, "fallbackText": "replaced"}
        assert sent.activity["conversation"]["id"] == "a:1"
        assert sent.activity["from"] == {"id": "28:b", "name": "Hjemmearbejde"}
    assert connector.sent[-1].card == cards[0]


def variants(card: dict[str, Any]) -> list[Activity]:
    plain = MessageFactory.text("Hej <at>Mette</at> – æøå")
    rich = MessageFactory.text("Hej <at>Mette</at>")
    rich.entities = [
        Mention(
            mentioned=ChannelAccount(id="29:u", name="Mette"), text="<at>Mette</at>", type="mention"
        )
    ]
    rich.channel_data = TeamsChannelData(tenant=TenantInfo(id="t"))
    rich.timestamp = datetime.datetime(2026, 3, 29, 1, 59, 59, 999000, datetime.UTC)
    rich.suggested_actions = SuggestedActions(
        actions=[CardAction(type="imBack", title="Ja", value="ja")]
    )
    # A model inside free-form JSON: not plain JSON, written by the schema model whole.
    rich.value = {"nested": [TenantInfo(id="inside free-form JSON")], "n": 1.5}
    with_data = card_message(card)
    with_data.channel_data = {"tenant": {"id": "t"}, "notification": {"alert": True}}
    with_data.value = {"verb": "next", "n": 1.5, "ok": True, "none": None, "list": [1, "a"]}
    with_data.attachments.append(
        Attachment(content_type="text/plain", content_url="http://127.0.0.1:9/file.txt", name="f")
    )
    return [plain, rich, with_data, card_message(card)]


async def test_the_connector_receives_exactly_what_botbuilders_own_client_sends(connector):
    """The same activities through botbuilder's stock client and through ours: the
    connector receives the same JSON, field for field."""
    cards = catalogue()[::9]
    ours, stock = (
        local_auth(),
        ConfigurationBotFrameworkAuthentication(BotFrameworkConfig(settings())),
    )

    async def send(auth, conversation_id: str) -> None:
        async def logic(context: TurnContext) -> None:
            for card in cards:
                await context.send_activities(variants(card))

        await in_conversation(CloudAdapter(auth), reference(connector.url, conversation_id), logic)

    try:
        await send(stock, "a:stock")
        await send(ours, "a:ours")
    finally:
        await ours.close()
    by_stock = [s.activity for s in connector.in_conversation("a:stock")]
    by_ours = [s.activity for s in connector.in_conversation("a:ours")]
    assert len(by_ours) == len(by_stock) == 4 * len(cards)
    for theirs, mine in zip(by_stock, by_ours, strict=True):
        # Each proactive turn has its own conversation and continuation activity.
        theirs["conversation"]["id"] = mine["conversation"]["id"]
        theirs["replyToId"] = mine["replyToId"]
        assert mine == theirs


@pytest.mark.parametrize("conversation_id", [THREAD, "a:odd id?with=query#and fragment"])
async def test_a_conversation_id_reaches_the_connector_unchanged(connector, auth, conversation_id):
    adapter = CloudAdapter(auth)

    async def logic(context: TurnContext) -> None:
        sent = await context.send_activity("hej")
        update = MessageFactory.text("hej igen")
        update.id = sent.id
        await context.update_activity(update)

    await in_conversation(adapter, reference(connector.url, conversation_id), logic)
    assert [(s.conversation_id, s.text) for s in connector.sent] == [(conversation_id, "hej igen")]


# --- the token ------------------------------------------------------------------------------


@pytest.fixture
def outbound_tokens(monkeypatch) -> list[tuple[str, bool]]:
    """Entra stand-in: a token per app id, recording whether it was asked for on the
    event loop's thread (which msal's network call would block)."""
    calls: list[tuple[str, bool]] = []

    def get_access_token(credentials, force_refresh: bool = False) -> str:
        calls.append((credentials.microsoft_app_id, threading.current_thread() is MAIN))
        return "outbound-test-token"

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", get_access_token)
    return calls


MAIN = threading.main_thread()


async def test_replies_and_updates_carry_the_bots_token(connector, outbound_tokens):
    auth = authenticated_auth()
    adapter = CloudAdapter(auth)

    async def logic(context: TurnContext) -> None:
        sent = await context.send_activity(card_message(a_card()))
        update = card_message({"type": "AdaptiveCard", "version": "1.5", "body": []})
        update.id = sent.id
        await context.update_activity(update)
        await asyncio.gather(*(context.send_activity(f"hej {n}") for n in range(5)))

    try:
        await in_conversation(adapter, reference(connector.url), logic, APP_ID)
    finally:
        await auth.close()
    assert connector.authorizations == ["Bearer outbound-test-token"] * 7
    assert outbound_tokens, "the credentials were never asked"
    assert {app_id for app_id, _ in outbound_tokens} == {APP_ID}
    assert not any(on_loop for _, on_loop in outbound_tokens), "token fetched on the loop"


async def test_a_refused_token_is_asked_for_again(connector, outbound_tokens):
    auth = authenticated_auth()
    adapter = CloudAdapter(auth)
    connector.faults = [401]

    async def logic(context: TurnContext) -> None:
        with pytest.raises(Exception) as refused:
            await context.send_activity("hej")
        assert refused.value.response.status_code == 401
        await context.send_activity("hej igen")

    try:
        await in_conversation(adapter, reference(connector.url), logic, APP_ID)
    finally:
        await auth.close()
    assert len(outbound_tokens) == 2
    assert [s.text for s in connector.sent] == ["hej igen"]


async def test_local_mode_sends_no_token(connector, auth, outbound_tokens):
    await in_conversation(
        CloudAdapter(auth), reference(connector.url), lambda c: c.send_activity("hej")
    )
    assert connector.authorizations == [None]
    assert outbound_tokens == []


# --- the clients ------------------------------------------------------------------------------


def open_connections(connector: LocalConnector) -> int:
    assert connector._runner is not None and connector._runner.server is not None
    return len(connector._runner.server.connections)


async def test_one_client_per_service_url_kept_and_closed_at_shutdown(connector):
    other = LocalConnector()
    await other.start()
    auth = local_auth()
    try:
        activity = Activity(type="message", service_url=connector.url, channel_id="msteams")
        first = await auth.authenticate_request(activity, "")
        second = await auth.authenticate_request(activity, "")
        a = await first.connector_factory.create(connector.url, first.audience)
        b = await second.connector_factory.create(connector.url, second.audience)
        c = await second.connector_factory.create(other.url, second.audience)
        assert a is b and a is not c
        together = await asyncio.gather(
            *(
                auth.create_connector_factory(first.claims_identity).create(
                    other.url, first.audience
                )
                for _ in range(5)
            )
        )
        assert all(client is c for client in together)
        token_client = await auth.create_user_token_client(first.claims_identity)
        assert token_client is await auth.create_user_token_client(second.claims_identity)

        adapter = CloudAdapter(auth)
        for url in (connector.url, other.url):
            await in_conversation(adapter, reference(url), lambda ctx: ctx.send_activity("hej"))
        assert open_connections(connector) == open_connections(other) == 1  # kept alive
        # An operation left to botbuilder's own client opens that client's connection.
        await adapter.create_conversation(
            "",
            lambda ctx: asyncio.sleep(0),
            ConversationParameters(members=[ChannelAccount(id="29:u")]),
            "msteams",
            connector.url,
        )
        assert connector.created and open_connections(connector) == 2

        await auth.close()
        await asyncio.sleep(0.05)  # the servers see the connections go
        assert open_connections(connector) == open_connections(other) == 0
        # After a close the next turn builds a fresh client and still gets through.
        assert a is not await first.connector_factory.create(connector.url, first.audience)
        await in_conversation(
            adapter, reference(connector.url), lambda ctx: ctx.send_activity("igen")
        )
        assert [s.text for s in connector.sent] == ["hej", "igen"]
    finally:
        await auth.close()
        await other.stop()


async def test_the_app_closes_its_connector_clients_at_shutdown(db_path, connector):
    from tests.harness import BotServer, TeamsClient, User

    bot = BotServer(db_path)
    await bot.start()
    async with aiohttp.ClientSession() as session:
        client = TeamsClient(session, bot, connector, User("Lone Leder", "l-1"))
        await client.say("hjælp")
    assert connector.sent and open_connections(connector) == 1
    await bot.stop()
    await asyncio.sleep(0.05)
    assert open_connections(connector) == 0


# --- what a caller sees when the connector says no --------------------------------------------


class _References:
    """The one part of the conversation store the reminder transport reads."""

    def __init__(self, service_url: str) -> None:
        self.service_url = service_url

    async def for_user(self, user_id: str) -> list[dict[str, Any]]:
        return [reference(self.service_url, f"a:{user_id}").serialize()]


@pytest.mark.parametrize(("status", "retry_after"), [(429, 1.0), (403, None), (503, None)])
async def test_reminders_see_the_connectors_status_and_retry_after(
    connector, auth, status, retry_after
):
    transport = ReminderTransport(CloudAdapter(auth), _References(connector.url), "")
    connector.faults_in["a:mette"] = [status]
    card = a_card()
    recipient = await transport.find("mette")
    assert recipient is not None
    refused = await (await transport.prepare(recipient, card))()
    assert (refused.status, refused.retry_after) == (status, retry_after)
    delivered = await (await transport.prepare(recipient, card))()
    assert delivered.status == 201
    assert [s.card for s in connector.sent] == [card]


async def test_errors_carry_status_and_headers_to_the_turn(connector, auth):
    adapter = CloudAdapter(auth)
    connector.faults_in["a:1"] = [429]

    async def throttled(context: TurnContext) -> None:
        await context.send_activity("hej")

    with pytest.raises(Exception) as error:
        await in_conversation(adapter, reference(connector.url), throttled)
    assert error.value.response.status_code == 429
    assert error.value.response.headers.get("Retry-After") == "1"
    assert error.value.response.headers.get("retry-after") == "1"

    async def update_unknown(context: TurnContext) -> None:
        activity = MessageFactory.text("ny")
        activity.id = "no-such-id"
        await context.update_activity(activity)

    with pytest.raises(Exception) as unknown:
        await in_conversation(adapter, reference(connector.url), update_unknown)
    assert unknown.value.response.status_code == 404
    assert "ActivityNotFound" in unknown.value.response.text


async def test_no_answer_is_an_error_without_a_status(auth):
    """A connector that never answers: a connection error, with no ``response`` to read."""
    transport = ReminderTransport(CloudAdapter(auth), _References("http://127.0.0.1:9/"), "")
    recipient = await transport.find("mette")
    assert recipient is not None
    outcome = await (await transport.prepare(recipient, {"type": "AdaptiveCard"}))()
    assert outcome.status is None


# --- the way out through a proxy ------------------------------------------------------------


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[str, list[str]]]:
    """A forward proxy that answers for the connector and records what it was asked."""
    seen: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.host} {request.path}")
        return web.json_response({"id": "via-proxy"}, status=201)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_requests_go_through_the_proxy_the_environment_names(monkeypatch, proxy):
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    service_url = "http://connector.kommune.example/emea/"
    # The environment is read when the bot makes its client for a service URL (at start).
    sent = await in_conversation(
        CloudAdapter(local_auth()), reference(service_url), lambda c: c.send_activity("hej")
    )
    assert sent.id == "via-proxy"
    assert len(seen) == 1
    assert seen[0].startswith(
        "POST connector.kommune.example /emea/v3/conversations/a:1/activities/"
    )

    monkeypatch.setenv("NO_PROXY", ".kommune.example")
    with pytest.raises(aiohttp.ClientError):
        await in_conversation(
            CloudAdapter(local_auth()), reference(service_url), lambda c: c.send_activity("hej")
        )
    assert len(seen) == 1
