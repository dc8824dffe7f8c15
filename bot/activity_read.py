"""An incoming activity's JSON read into botbuilder's Activity, directly for the fields Teams
sends with a message.

msrest's ``Activity().deserialize()`` walks the schema's type map for every attribute of the
Activity and each account (about half a millisecond for a Teams message here, on every turn).
A Teams message or card submit has a known set of keys: :func:`read_activity` builds the same
models from them with the schema's public constructors, and hands anything else to msrest
whole, so the result is always what msrest makes (tests/test_activity_read.py compares the
two): a key that is not listed below, or a value of another JSON type than the schema's.

As msrest does, a key the schema does not name goes into the model's
``additional_properties`` (Teams' ``tenantId`` on the conversation, an entity's ``locale`` …),
a timestamp becomes a datetime (msrest's own ISO 8601 reader), and free-form JSON (``value``,
``channelData``) is the parsed JSON as it is.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, Entity
from msrest.serialization import Deserializer

#: Activity keys read as strings: key → attribute.
_TEXT = {
    "type": "type",
    "id": "id",
    "serviceUrl": "service_url",
    "channelId": "channel_id",
    "textFormat": "text_format",
    "locale": "locale",
    "text": "text",
    "replyToId": "reply_to_id",
    "name": "name",
    "action": "action",
    "valueType": "value_type",
    "localTimezone": "local_timezone",
}
_TIMES = {"timestamp": "timestamp", "localTimestamp": "local_timestamp"}
_FREE = {"value": "value", "channelData": "channel_data"}
_CHANNEL_ACCOUNT = {"id": "id", "name": "name", "aadObjectId": "aad_object_id", "role": "role"}
_CONVERSATION_ACCOUNT = {
    **_CHANNEL_ACCOUNT,
    "conversationType": "conversation_type",
    "tenantID": "tenant_id",  # sic: the schema's key; Teams' "tenantId" is an extra key
}
_ACCOUNTS: dict[str, tuple[str, type, dict[str, str]]] = {
    "from": ("from_property", ChannelAccount, _CHANNEL_ACCOUNT),
    "recipient": ("recipient", ChannelAccount, _CHANNEL_ACCOUNT),
    "conversation": ("conversation", ConversationAccount, _CONVERSATION_ACCOUNT),
}
#: The keys the schema names on an Activity: any other is an additional property.
_ACTIVITY_KEYS = frozenset(
    {
        "type",
        "id",
        "timestamp",
        "localTimestamp",
        "localTimezone",
        "serviceUrl",
        "channelId",
        "from",
        "conversation",
        "recipient",
        "textFormat",
        "attachmentLayout",
        "membersAdded",
        "membersRemoved",
        "reactionsAdded",
        "reactionsRemoved",
        "topicName",
        "historyDisclosed",
        "locale",
        "text",
        "speak",
        "inputHint",
        "summary",
        "suggestedActions",
        "attachments",
        "entities",
        "channelData",
        "action",
        "replyToId",
        "label",
        "valueType",
        "value",
        "name",
        "relatesTo",
        "code",
        "expiration",
        "importance",
        "deliveryMode",
        "listenFor",
        "textHighlights",
        "semanticAction",
        "callerId",
    }
)
_HANDLED = (
    frozenset(_TEXT) | frozenset(_TIMES) | frozenset(_FREE) | frozenset(_ACCOUNTS) | {"entities"}
)


class _NotPlain(Exception):
    """Something the direct reader does not read: msrest reads the whole activity."""


def _text(value: Any) -> str:
    if type(value) is not str:
        raise _NotPlain
    return value


def _account(data: Any, kind: type, keys: dict[str, str]) -> Any:
    if type(data) is not dict:
        raise _NotPlain
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        name = keys.get(key)
        if name is not None:
            if value is not None:
                fields[name] = _text(value)
        elif key in ("properties", "isGroup"):
            raise _NotPlain  # typed otherwise: msrest reads them
        else:
            extra[key] = value
    account = kind(**fields)
    if extra:
        account.additional_properties = extra
    return account


def _entity(data: Any) -> Entity:
    if type(data) is not dict:
        raise _NotPlain
    kind = data.get("type")
    entity = Entity(type=None if kind is None else _text(kind))
    extra = {k: v for k, v in data.items() if k != "type"}
    if extra:
        entity.additional_properties = extra
    return entity


def _free(value: Any) -> Any:
    if value is not None and type(value) not in (dict, list):
        raise _NotPlain  # a string or number as free-form JSON: msrest's rules
    return value


def _read(body: dict[str, Any]) -> Activity:
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in body.items():
        if key not in _HANDLED:
            if key in _ACTIVITY_KEYS:
                raise _NotPlain
            extra[key] = value
            continue
        if value is None:
            continue
        if key in _TEXT:
            fields[_TEXT[key]] = _text(value)
        elif key in _TIMES:
            fields[_TIMES[key]] = Deserializer.deserialize_iso(_text(value))
        elif key in _FREE:
            fields[_FREE[key]] = _free(value)
        elif key == "entities":
            if type(value) is not list:
                raise _NotPlain
            fields["entities"] = [_entity(e) for e in value]
        else:
            name, kind, keys = _ACCOUNTS[key]
            fields[name] = _account(value, kind, keys)
    activity = Activity(**fields)
    if extra:
        activity.additional_properties = extra
    return activity


def read_activity(body: dict[str, Any]) -> Activity:
    """The activity of an incoming request's JSON object (msrest's DeserializationError,
    ValueError or TypeError for one it cannot read, as ``Activity().deserialize``)."""
    try:
        return _read(body)
    except Exception:  # noqa: BLE001 - anything unusual is msrest's to read, or to refuse
        return Activity().deserialize(body)
