"""The Adaptive Card elements the templates are built from: a TextBlock, an Action.Submit,
an input of any kind, a FactSet, bullet lines.

The templates call them as they would call a macro (``{{ text(title, weight="Bolder") }}``,
``{{ input(f.tasks_home) }}``); each returns its element's JSON as ``Markup``, which the
renderer writes as it is (cards/renderer.py). They are Python rather than template macros
because they are most of a card's elements: a card has up to a hundred, and a macro call
costs about ten times as much as these, on every step of every dialogue. What a card holds and
in which order stays in its template; the card-specific pieces stay macros in
``_macros.j2``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup

#: One encoder for every element: json.dumps with options builds a new encoder on each call.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def _json(element: Any) -> Markup:
    return Markup(_encode(element))


def _get(item: Any, name: str) -> Any:
    """``item.name`` as a template reads it: a key of a mapping, else an attribute."""
    if isinstance(item, Mapping):
        return item[name]
    return getattr(item, name)


def text_block(
    value: Any,
    weight: str | None = None,
    size: str | None = None,
    subtle: bool = False,
    spacing: str | None = None,
    heading: bool = False,
) -> dict[str, Any]:
    """``heading=True`` makes the card's one heading (Adaptive Cards 1.5): a screen reader
    reads it out as a heading."""
    block: dict[str, Any] = {"type": "TextBlock", "text": value, "wrap": True}
    if heading:
        block["style"] = "heading"
    if weight:
        block["weight"] = weight
    if size:
        block["size"] = size
    if subtle:
        block["isSubtle"] = True
    if spacing:
        block["spacing"] = spacing
    return block


def text(*args: Any, **kwargs: Any) -> Markup:
    """A TextBlock (the arguments of :func:`text_block`)."""
    return _json(text_block(*args, **kwargs))


def submit(title: Any, data: Any, style: str | None = None, inputs: str = "Auto") -> Markup:
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": title,
        "data": data,
        "associatedInputs": inputs,
    }
    if style:
        action["style"] = style
    return _json(action)


def facts(items: Iterable[Any]) -> Markup:
    return _json(
        {
            "type": "FactSet",
            "facts": [{"title": _get(i, "title"), "value": _get(i, "value")} for i in items],
        }
    )


def bullets(lines: Iterable[Any]) -> Markup:
    """One TextBlock per line, comma-separated: several elements of a list."""
    return Markup(",\n".join(_encode(text_block(f"• {line}", spacing="Small")) for line in lines))


def _common(f: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": f["id"],
        "label": f["label"],
        "isRequired": f["required"],
        "errorMessage": f["error"],
    }


def input_element(f: Mapping[str, Any]) -> dict[str, Any] | None:
    """The input for a field's view (cards/view.py input_view), prefilled with its value."""
    kind, value = f["kind"], f["value"]
    element: dict[str, Any]
    if kind == "person" and f["people_picker"]:
        element = {
            "type": "Input.ChoiceSet",
            **_common(f),
            "style": "filtered",
            "placeholder": f["placeholder"],
            "choices": [],
            "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"},
        }
        if value:
            element["value"] = value
    elif kind in ("text", "person"):
        element = {"type": "Input.Text", **_common(f), "isMultiline": f["multiline"]}
        if f["max_len"]:
            element["maxLength"] = f["max_len"]
        if f["placeholder"]:
            element["placeholder"] = f["placeholder"]
        if value:
            element["value"] = value
    elif kind in ("choice", "multi"):
        element = {
            "type": "Input.ChoiceSet",
            **_common(f),
            "style": "compact" if len(f["choices"]) > 4 else "expanded",
            "isMultiSelect": kind == "multi",
            "choices": f["choices"],
        }
        if value:
            element["value"] = value
    elif kind == "number":
        element = {"type": "Input.Number", **_common(f)}
        if f["min"] is not None:
            element["min"] = f["min"]
        if f["max"] is not None:
            element["max"] = f["max"]
        if f["placeholder"]:
            element["placeholder"] = f["placeholder"]
        if value is not None:
            element["value"] = value
    elif kind in ("date", "time"):
        element = {"type": "Input.Date" if kind == "date" else "Input.Time", **_common(f)}
        if value:
            element["value"] = value
    elif kind == "toggle":
        element = {
            "type": "Input.Toggle",
            "id": f["id"],
            "title": f["label"],
            "valueOn": "true",
            "valueOff": "false",
            "value": value or "false",
        }
    else:
        return None
    return element


def input(f: Mapping[str, Any]) -> Markup:  # noqa: A001 - the templates' name for it
    element = input_element(f)
    return Markup("") if element is None else _json(element)


#: What the templates can call, by name.
ELEMENTS = {"text": text, "submit": submit, "facts": facts, "bullets": bullets, "input": input}
