"""An incoming activity read by bot/activity_read.py is the same Activity msrest makes of
it: for what Teams sends (messages, card submits, with their entities and timestamps), for
generated bodies with any mix of keys and JSON types, and for bodies msrest refuses."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from botbuilder.schema import Activity
from hypothesis import given, settings
from hypothesis import strategies as st
from msrest.exceptions import DeserializationError

from bot.activity_read import _ACTIVITY_KEYS, read_activity


def plain(value: Any) -> Any:
    """A model as nested plain data: its class and every attribute, recursively."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, datetime.datetime):
        return ("datetime", value.isoformat(), str(value.tzinfo))
    if hasattr(value, "_attribute_map"):
        return (type(value).__name__, {k: plain(v) for k, v in vars(value).items()})
    return value


def read_alike(body: dict[str, Any]) -> None:
    assert plain(read_activity(body)) == plain(Activity().deserialize(body))


TEAMS_MESSAGE = {
    "text": "start",
    "textFormat": "plain",
    "type": "message",
    "timestamp": "2026-12-02T08:10:01.4461035Z",
    "localTimestamp": "2026-12-02T09:10:01.4461035+01:00",
    "id": "1764663001446",
    "channelId": "msteams",
    "serviceUrl": "https://smba.trafficmanager.net/emea/",
    "from": {
        "id": "29:1Xyz-abc",
        "name": "Lone Leder",
        "aadObjectId": "6a1b2c3d-0000-4000-8000-000000000001",
    },
    "conversation": {
        "conversationType": "personal",
        "tenantId": "72f988bf-0000-4000-8000-000000000000",
        "id": "a:1abcDEF",
    },
    "recipient": {"id": "28:5f0c2d1e-7a43-4b8e-9c61-2e8d4f7a9b30", "name": "Hjemmearbejde"},
    "entities": [
        {
            "locale": "da-DK",
            "country": "DK",
            "platform": "Web",
            "timezone": "Europe/Copenhagen",
            "type": "clientInfo",
        }
    ],
    "channelData": {"tenant": {"id": "72f988bf-0000-4000-8000-000000000000"}},
    "locale": "da-DK",
    "localTimezone": "Europe/Copenhagen",
}


def test_what_teams_sends_is_read_as_msrest_reads_it():
    read_alike(TEAMS_MESSAGE)
    submit = {
        **{k: v for k, v in TEAMS_MESSAGE.items() if k not in ("text", "textFormat")},
        "replyToId": "1764662990001",
        "value": {"verb": "next", "dialogue_id": "d" * 32, "version": 3, "days": ["mon"]},
    }
    read_alike(submit)
    activity = read_activity(submit)
    assert activity.conversation.additional_properties["tenantId"].startswith("72f988bf")
    assert activity.entities[0].additional_properties["timezone"] == "Europe/Copenhagen"
    assert activity.local_timestamp.utcoffset() == datetime.timedelta(hours=1)


def test_the_reader_knows_every_key_of_the_schema():
    """A key of the schema it does not read goes to msrest, never into the extras."""
    assert {d["key"] for d in Activity._attribute_map.values()} == _ACTIVITY_KEYS


@pytest.mark.parametrize(
    "body",
    [
        {"type": "message", "timestamp": "not a time"},
        {"type": "message", "from": "not an account"},
        {"type": "message", "entities": {"not": "a list"}},
    ],
)
def test_what_msrest_refuses_is_refused(body):
    with pytest.raises((DeserializationError, TypeError, ValueError)):
        Activity().deserialize(body)
    with pytest.raises((DeserializationError, TypeError, ValueError)):
        read_activity(body)


_scalar = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
_json = st.recursive(
    _scalar,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
_account = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "name",
            "aadObjectId",
            "role",
            "tenantId",
            "tenantID",
            "conversationType",
            "isGroup",
            "x",
        ]
    ),
    _scalar,
    max_size=5,
)
_times = st.sampled_from(
    ["2026-12-02T08:10:01.4461035Z", "2026-12-02T09:10:01.123+01:00", "2026-12-02T08:10:01Z"]
)
_bodies = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "invoke", "conversationUpdate"])},
    optional={
        "id": _scalar,
        "text": _scalar,
        "textFormat": st.just("plain"),
        "timestamp": _times | _scalar,
        "localTimestamp": _times,
        "localTimezone": st.text(max_size=8),
        "serviceUrl": st.text(max_size=8),
        "channelId": st.just("msteams"),
        "from": _account,
        "recipient": _account,
        "conversation": _account,
        "entities": st.lists(
            st.dictionaries(st.sampled_from(["type", "locale", "x"]), _scalar, max_size=3),
            max_size=2,
        ),
        "channelData": _json,
        "value": _json,
        "locale": st.sampled_from(["da-DK", "en-US"]),
        "replyToId": _scalar,
        "name": st.just("adaptiveCard/action"),
        "unknownKey": _json,
        "membersAdded": st.lists(_account, max_size=2),
    },
)


@settings(max_examples=400, deadline=None)
@given(_bodies)
def test_generated_bodies_are_read_as_msrest_reads_them(body):
    try:
        expected = plain(Activity().deserialize(body))
    except (DeserializationError, TypeError, ValueError):
        with pytest.raises((DeserializationError, TypeError, ValueError)):
            read_activity(body)
        return
    assert plain(read_activity(body)) == expected
