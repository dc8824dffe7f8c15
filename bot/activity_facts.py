"""What the bot reads from an incoming activity, for either SDK.

botbuilder's Activity (msrest) and the Agents SDK's Activity (pydantic) use the same Python
attribute names for everything read here (``from_property``, ``conversation``,
``channel_data``, ``locale`` …), so these functions take either without knowing which.
"""

from __future__ import annotations

import re
from typing import Any

from core.texts import pick_locale
from dialogs.turn import Actor

_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


def tenant_id(activity: Any) -> str | None:
    """Teams sends the tenant in channelData; some activities only in the conversation, as
    ``conversation.tenantId``. botbuilder's ConversationAccount maps its ``tenant_id`` to the
    key ``tenantID``, so there Teams' ``tenantId`` arrives among its additional properties."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant")
    found = tenant.get("id") if isinstance(tenant, dict) else None
    conversation = activity.conversation
    if not found and conversation is not None:
        extra = getattr(conversation, "additional_properties", None) or {}
        found = conversation.tenant_id or extra.get("tenantId")
    return found if isinstance(found, str) and found else None


def actor_of(activity: Any, forced_locale: str = "") -> Actor:
    sender = activity.from_property
    conversation_type = activity.conversation.conversation_type if activity.conversation else None
    return Actor(
        user_id=(sender.aad_object_id or sender.id) if sender else "",
        name=(sender.name if sender else None) or "",
        locale=forced_locale or pick_locale(activity.locale),
        tenant_id=tenant_id(activity),
        personal=conversation_type in (None, "personal"),
    )


def without_mentions(text: str) -> str:
    """The typed text without the @mention tags left in it (group chats)."""
    return _AT_TAG.sub("", text).strip()


def card_data(activity: Any) -> dict[str, Any]:
    """The data of an Action.Execute (``adaptiveCard/action`` invoke), its verb included."""
    value = activity.value if isinstance(activity.value, dict) else {}
    action = value.get("action") if isinstance(value.get("action"), dict) else {}
    data = dict(action.get("data")) if isinstance(action.get("data"), dict) else {}
    if "verb" not in data and isinstance(action.get("verb"), str):
        data["verb"] = action["verb"]
    return data


def adds_the_bot(activity: Any) -> bool:
    """A conversationUpdate that adds the bot itself to the conversation."""
    bot_id = activity.recipient.id if activity.recipient else None
    return any(m is not None and m.id == bot_id for m in activity.members_added or ())
