"""Bodies for answering an Adaptive Card ``Action.Execute`` invoke (Universal Actions).

Plain dicts, not botbuilder's ``AdaptiveCardInvokeResponse``: its msrest model declares
``value`` as an object and cannot serialise the string a message response carries. The HTTP
status is always 200; the outcome is in ``statusCode`` and ``type``, as the Universal Actions
contract asks.
"""

from __future__ import annotations

from typing import Any

MESSAGE = "application/vnd.microsoft.activity.message"
ERROR = "application/vnd.microsoft.error"


def invoke_message(text: str) -> dict[str, Any]:
    return {"statusCode": 200, "type": MESSAGE, "value": text}


def invoke_error(text: str) -> dict[str, Any]:
    return {"statusCode": 500, "type": ERROR, "value": {"code": "InternalError", "message": text}}
