"""The overview page's HTML (web/overview.html.j2) in one language: its texts come from
``[overview.page]`` of the content files; those the script needs travel in a JSON data
block (not a script: the Content-Security-Policy allows only our own script files)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from core.texts import texts_for

TEMPLATE = "overview.html.j2"
#: The texts the script shows (messages, table headings, the hidden-cell text).
SCRIPT_TEXTS = (
    "loading",
    "people",
    "table_caption",
    "category",
    "suppressed",
    "chart_label",
    "signed_out",
    "not_allowed",
    "unit_not_allowed",
    "failed",
    "no_units",
    "all_units",
    "showing",
)


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent),
        autoescape=select_autoescape(["j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(locale: str, *, local: bool, k: int, locale_given: bool) -> str:
    t = texts_for(locale)

    def text(key: str, **params: object) -> str:
        return t(f"overview.page.{key}", **params)

    script_texts = {key: t(f"overview.page.{key}") for key in SCRIPT_TEXTS}
    data = json.dumps(
        {"locale": t.locale, "local": local, "localeGiven": locale_given, "texts": script_texts},
        ensure_ascii=False,
    ).replace("<", "\\u003c")
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(lang=t.locale.split("-")[0], text=text, k=k, local=local, data=Markup(data))
    )
