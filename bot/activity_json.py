"""The JSON of the bot's outgoing activities and stored conversation references, written
directly for the plain fields they have.

msrest's ``Model.serialize()`` walks every attribute of the model's type map for each
message (about 45 for an Activity) and costs about half a millisecond for a small message
here; a turn sends two and stores a reference. The messages this bot sends are botbuilder's
``MessageFactory`` text or card messages with ``TurnContext``'s conversation reference
applied: a handful of strings, three accounts and the attachments. :func:`activity_body` and
:func:`reference_json` write those with the key names of the Bot Framework schema
(https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference#activity-object),
reading only the models' public attributes, and hand anything else to ``serialize()``
whole: an attribute set that is not listed below (a timestamp, entities, suggested actions,
members …), a value that is not a plain string, or free-form JSON with something in it that
the json module cannot write (a model, a date).
The result is then always what msrest writes (tests/test_activity_json.py compares the two).

Like msrest, an attribute that is None is left out and an enum is written as its value. A
model's ``additional_properties`` (the keys an incoming activity had that the schema does not
name, such as Teams' ``tenantId`` on the conversation) are not written: botbuilder's schema
models do not list them among the attributes msrest writes.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

#: Activity attributes written as strings: attribute → key.
_ACTIVITY_TEXT = {
    "type": "type",
    "id": "id",
    "service_url": "serviceUrl",
    "channel_id": "channelId",
    "text_format": "textFormat",
    "attachment_layout": "attachmentLayout",
    "locale": "locale",
    "text": "text",
    "speak": "speak",
    "input_hint": "inputHint",
    "summary": "summary",
    "reply_to_id": "replyToId",
    "name": "name",
    "label": "label",
    "value_type": "valueType",
    "action": "action",
    "code": "code",
    "importance": "importance",
    "delivery_mode": "deliveryMode",
    "caller_id": "callerId",
    "topic_name": "topicName",
    "local_timezone": "localTimezone",
}
#: Activity attributes that are accounts: attribute → (key, the account's string keys).
_CHANNEL_ACCOUNT = {"id": "id", "name": "name", "aad_object_id": "aadObjectId", "role": "role"}
_CONVERSATION_ACCOUNT = {
    **_CHANNEL_ACCOUNT,
    "conversation_type": "conversationType",
    "tenant_id": "tenantID",  # sic: botbuilder's schema writes it so
}
_ACTIVITY_ACCOUNTS = {
    "from_property": ("from", _CHANNEL_ACCOUNT),
    "recipient": ("recipient", _CHANNEL_ACCOUNT),
    "conversation": ("conversation", _CONVERSATION_ACCOUNT),
}
#: Activity attributes of free-form JSON (the schema's "object").
_ACTIVITY_FREE = {"value": "value", "channel_data": "channelData"}
_ATTACHMENT_TEXT = {
    "content_type": "contentType",
    "content_url": "contentUrl",
    "name": "name",
    "thumbnail_url": "thumbnailUrl",
}
_REFERENCE_TEXT = {
    "activity_id": "activityId",
    "channel_id": "channelId",
    "locale": "locale",
    "service_url": "serviceUrl",
}
_REFERENCE_ACCOUNTS = {
    "user": ("user", _CHANNEL_ACCOUNT),
    "bot": ("bot", _CHANNEL_ACCOUNT),
    "conversation": ("conversation", _CONVERSATION_ACCOUNT),
}


class _NotPlain(Exception):
    """Something the direct writer does not write: msrest writes the whole model."""


def _text(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if type(value) is not str:
        raise _NotPlain
    return value


def _fields(model: Any, text: dict[str, str], others: set[str]) -> dict[str, Any]:
    """The model's string attributes; any other attribute set, beyond ``others``, is not
    plain."""
    out: dict[str, Any] = {}
    for name, value in vars(model).items():
        if value is None or name == "additional_properties" or name in others:
            continue
        key = text.get(name)
        if key is None:
            raise _NotPlain
        out[key] = _text(value)
    return out


def _account(account: Any, text: dict[str, str]) -> dict[str, Any]:
    others = {"is_group"} if "conversation_type" in text else set()
    out = _fields(account, text, others)
    is_group = getattr(account, "is_group", None)
    if is_group is not None:
        if type(is_group) is not bool:
            raise _NotPlain
        out["isGroup"] = is_group
    return out


def _accounts(model: Any, accounts: dict[str, tuple[str, dict[str, str]]], out: dict) -> None:
    for name, (key, text) in accounts.items():
        account = getattr(model, name, None)
        if account is not None:
            out[key] = _account(account, text)


def _free(value: Any) -> Any:
    """Free-form JSON (the schema's "object") is written by json as it is; a model or
    other object in it makes json.dumps fail, and then msrest writes the whole activity."""
    if type(value) not in (dict, list, str, int, float, bool):
        raise _NotPlain
    return value


def _attachment(attachment: Any) -> dict[str, Any]:
    out = _fields(attachment, _ATTACHMENT_TEXT, {"content"})
    if attachment.content is not None:
        out["content"] = _free(attachment.content)
    return out


def _activity(activity: Any) -> dict[str, Any]:
    others = set(_ACTIVITY_ACCOUNTS) | set(_ACTIVITY_FREE) | {"attachments"}
    out = _fields(activity, _ACTIVITY_TEXT, others)
    _accounts(activity, _ACTIVITY_ACCOUNTS, out)
    for name, key in _ACTIVITY_FREE.items():
        value = getattr(activity, name, None)
        if value is not None:
            out[key] = _free(value)
    attachments = activity.attachments
    if attachments is not None:
        if type(attachments) is not list:
            raise _NotPlain
        out["attachments"] = [_attachment(a) for a in attachments]
    return out


def activity_body(activity: Any) -> bytes:
    """The activity as the request body: its JSON, UTF-8."""
    try:
        return json.dumps(_activity(activity), ensure_ascii=False).encode()
    except (_NotPlain, AttributeError, TypeError, ValueError):
        # something the direct writer does not write, or free-form JSON with a model or a
        # date in it
        return json.dumps(activity.serialize(), ensure_ascii=False).encode()


def reference_json(reference: Any) -> dict[str, Any]:
    """A ConversationReference as the schema's JSON."""
    try:
        out = _fields(reference, _REFERENCE_TEXT, set(_REFERENCE_ACCOUNTS))
        _accounts(reference, _REFERENCE_ACCOUNTS, out)
        return out
    except (_NotPlain, AttributeError, TypeError):
        serialized: dict[str, Any] = reference.serialize()
        return serialized
