"""Render a card template to an Adaptive Card (a dict).

Every ``{{ value }}`` in a template is written as a JSON literal (string, number, list …), so
no text can break the card's JSON, whatever a user typed. Templates therefore write
``"text": {{ title }}`` without quotes. Macro output and the elements of cards/elements.py
(already JSON, as Markup) pass through as is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from cards.elements import ELEMENTS

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
#: Teams accepts bot messages up to 100 KB; keep cards well under it.
MAX_CARD_BYTES = 80 * 1024


class CardTooLarge(ValueError):
    pass


#: One encoder for every value: json.dumps with options builds a new encoder on each call.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def _as_json(value: Any) -> Markup:
    if isinstance(value, Markup):  # output of a macro: JSON already
        return value
    return Markup(_encode(value))


class CardRenderer:
    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        self.env = Environment(
            loader=FileSystemLoader(templates_dir),
            autoescape=True,  # makes macro output Markup, so _as_json can tell it apart
            finalize=_as_json,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # templates are read once: no file check on every render
        )
        self.env.globals.update(ELEMENTS)  # text(), submit(), input() … (cards/elements.py)

    def render(self, name: str, **context: Any) -> dict[str, Any]:
        text = self.env.get_template(f"{name}.json.j2").render(**context)
        card: dict[str, Any] = json.loads(text)
        # Serialised again, the card is at most twice its template's text (a space after
        # each comma and colon at worst): only a text over half the limit needs the exact size.
        if 2 * len(text.encode("utf-8")) > MAX_CARD_BYTES:
            size = len(json.dumps(card, ensure_ascii=False).encode("utf-8"))
            if size > MAX_CARD_BYTES:
                raise CardTooLarge(f"card {name} is {size} bytes")
        return card

    @property
    def macros(self) -> Any:
        """The macros of ``_macros.j2``, to render a part once for several cards (each returns
        its part's JSON as Markup, which a template writes as it is)."""
        return self.env.get_template("_macros.j2").module

    def template_names(self) -> list[str]:
        return sorted(
            p.name.removesuffix(".json.j2")
            for p in Path(self.env.loader.searchpath[0]).glob("*.json.j2")  # type: ignore[union-attr]
        )
