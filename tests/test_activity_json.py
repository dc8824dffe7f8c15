"""The outgoing activities' and stored references' JSON (bot/activity_json.py) is exactly
what botbuilder's schema models (msrest) write, for the messages a turn sends, for Teams'
own incoming activities, and for generated activities with any mix of fields."""

from __future__ import annotations

import datetime
import json
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Mention,
    SuggestedActions,
)
from botbuilder.schema.teams import TenantInfo
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.activity_json import activity_body, reference_json
from tests.card_catalogue import all_cards


def teams_message(**fields: Any) -> Activity:
    """An incoming Teams message as botbuilder reads it from the wire."""
    body = {
        "type": "message",
        "id": "1712345678901",
        "timestamp": "2026-12-02T08:00:00.123Z",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "channelId": "msteams",
        "from": {"id": "29:1abc", "name": "Mette Hansen", "aadObjectId": "oid-1"},
        "conversation": {
            "conversationType": "personal",
            "tenantId": "tenant-1",
            "id": "a:1xyz",
        },
        "recipient": {"id": "28:bot", "name": "Hjemmearbejde"},
        "locale": "da-DK",
        "channelData": {"tenant": {"id": "tenant-1"}},
        **fields,
    }
    return Activity().deserialize(body)


def replies_to(incoming: Activity, card: dict[str, Any]) -> list[Activity]:
    """What a turn sends: a card reply, a text reply, and a card replacing another."""
    reference = TurnContext.get_conversation_reference(incoming)
    sent = [
        TurnContext.apply_conversation_reference(
            MessageFactory.attachment(CardFactory.adaptive_card(card)), reference
        ),
        TurnContext.apply_conversation_reference(MessageFactory.text("Tak – æøå"), reference),
    ]
    replacement = TurnContext.apply_conversation_reference(
        MessageFactory.attachment(CardFactory.adaptive_card(card)), reference
    )
    replacement.id = "1712345678900"
    return [*sent, replacement]


def written_alike(activity: Activity) -> None:
    assert json.loads(activity_body(activity)) == json.loads(json.dumps(activity.serialize()))


def test_every_card_a_turn_sends_is_written_as_msrest_writes_it():
    incoming = teams_message(value={"verb": "next", "dialogue": "d1"}, replyToId="17")
    cards = [card for _, card in all_cards()]
    assert len(cards) > 100
    for card in cards:
        for activity in replies_to(incoming, card):
            written_alike(activity)


def test_teams_extra_keys_are_left_out_as_msrest_leaves_them_out():
    """Teams' ``tenantId`` on the conversation is not in botbuilder's schema (which has
    ``tenantID``): it arrives as an additional property, which neither writer writes."""
    incoming = teams_message()
    assert incoming.conversation.additional_properties == {"tenantId": "tenant-1"}
    reference = TurnContext.get_conversation_reference(incoming)
    written = reference_json(reference)
    assert written == reference.serialize()
    assert written["conversation"] == {"conversationType": "personal", "id": "a:1xyz"}
    assert written["user"] == {"id": "29:1abc", "name": "Mette Hansen", "aadObjectId": "oid-1"}
    for reply in replies_to(incoming, {"type": "AdaptiveCard"}):
        assert "tenantId" not in json.loads(activity_body(reply))["conversation"]


def test_what_the_direct_writer_does_not_know_goes_to_msrest_whole():
    rich = MessageFactory.text("Hej <at>Mette</at>")
    rich.entities = [
        Mention(
            mentioned=ChannelAccount(id="29:u", name="Mette"), text="<at>Mette</at>", type="mention"
        )
    ]
    rich.timestamp = datetime.datetime(2026, 3, 29, 1, 59, 59, 999000, datetime.UTC)
    rich.suggested_actions = SuggestedActions(
        actions=[CardAction(type="imBack", title="Ja", value="ja")]
    )
    written_alike(rich)
    inside = MessageFactory.text("x")
    inside.value = {"nested": [TenantInfo(id="a model inside free-form JSON")]}
    written_alike(inside)
    odd = MessageFactory.text("x")
    odd.recipient = ChannelAccount(id="29:u", properties={"a": 1})
    odd.conversation = ConversationAccount(id="a:1", is_group=False, tenant_id="t")
    written_alike(odd)


_text = st.text(max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_text, children, max_size=3),
    max_leaves=8,
)
_extra = st.dictionaries(st.sampled_from(["tenantId", "id", "x-ms", "name"]), _text, max_size=2)


@st.composite
def accounts(draw: Any, kind: type) -> Any:
    fields: dict[str, Any] = {
        name: draw(st.none() | _text) for name in ("id", "name", "aad_object_id", "role")
    }
    if kind is ConversationAccount:
        fields["conversation_type"] = draw(st.none() | st.sampled_from(["personal", "groupChat"]))
        fields["tenant_id"] = draw(st.none() | _text)
        fields["is_group"] = draw(st.none() | st.booleans())
    if draw(st.booleans()):
        fields["properties"] = draw(st.none() | _json)
    account = kind(**fields)
    account.additional_properties = draw(_extra)
    return account


@st.composite
def activities(draw: Any) -> Activity:
    activity = Activity(
        type=draw(st.sampled_from([ActivityTypes.message, "message", "typing", None])),
        id=draw(st.none() | _text),
        service_url=draw(st.none() | _text),
        channel_id=draw(st.none() | st.just("msteams")),
        from_property=draw(st.none() | accounts(ChannelAccount)),
        recipient=draw(st.none() | accounts(ChannelAccount)),
        conversation=draw(st.none() | accounts(ConversationAccount)),
        text=draw(st.none() | _text),
        locale=draw(st.none() | st.sampled_from(["da-DK", "en-US"])),
        input_hint=draw(st.none() | st.just("acceptingInput")),
        reply_to_id=draw(st.none() | _text),
        summary=draw(st.none() | _text),
        value=draw(st.none() | _json),
        channel_data=draw(st.none() | _json),
        attachments=draw(
            st.none()
            | st.lists(
                st.builds(
                    Attachment,
                    content_type=st.none() | _text,
                    content_url=st.none() | _text,
                    content=st.none() | _json,
                    name=st.none() | _text,
                ),
                max_size=2,
            )
        ),
        history_disclosed=draw(st.none() | st.booleans()),
    )
    activity.additional_properties = draw(_extra)
    return activity


@settings(max_examples=300, deadline=None)
@given(activities())
def test_generated_activities_are_written_as_msrest_writes_them(activity):
    written_alike(activity)


@settings(max_examples=200, deadline=None)
@given(
    st.builds(
        ConversationReference,
        activity_id=st.none() | _text,
        user=st.none() | accounts(ChannelAccount),
        bot=st.none() | accounts(ChannelAccount),
        conversation=st.none() | accounts(ConversationAccount),
        channel_id=st.none() | _text,
        locale=st.none() | _text,
        service_url=st.none() | _text,
    )
)
def test_generated_references_are_written_as_msrest_writes_them(reference):
    assert reference_json(reference) == reference.serialize()
