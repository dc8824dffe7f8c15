"""The one place every user-facing text comes from: ``content/<locale>.toml``, and the
policy file (``content/policy.toml``) for the rules' titles, the follow-ups' meanings and the
sources (``rules.<id>``, ``actions.<key>``, ``sources.<id>.title``/``.url``). A threshold's
name in braces (``{laptop_hours}``) shows the policy's value.

Danish (da-DK) is the primary language; English (en-US) is chosen when the Teams locale is
English. Keys are dotted paths (``steps.tasks.title``); placeholders use ``str.format``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from core import policy as policies

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
DEFAULT_LOCALE = "da-DK"
LOCALES = ("da-DK", "en-US")


def pick_locale(requested: str | None) -> str:
    """Map a Teams locale ("en-GB", "da", "nb-NO", …) to a locale we have texts for."""
    if requested and requested.lower().startswith("en"):
        return "en-US"
    return DEFAULT_LOCALE


def flatten(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in tree.items():
        if isinstance(value, Mapping):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


class Texts:
    """The texts of one locale."""

    def __init__(self, locale: str, entries: Mapping[str, str]) -> None:
        self.locale = locale
        self._entries = entries

    def __call__(self, key: str, **params: Any) -> str:
        try:
            text = self._entries[key]
        except KeyError:
            raise KeyError(f"no text {key!r} for {self.locale}") from None
        return text.format(**params) if params else text

    def has(self, key: str) -> bool:
        return key in self._entries

    def keys(self) -> set[str]:
        return set(self._entries)


def _number(value: float, locale: str) -> str:
    text = f"{value:g}"
    return text.replace(".", ",") if locale == DEFAULT_LOCALE else text


@cache
def texts_for(locale: str) -> Texts:
    locale = pick_locale(locale)
    with (CONTENT_DIR / f"{locale}.toml").open("rb") as fh:
        tree = tomllib.load(fh)
    policy = policies.active()
    entries = {**dict(flatten(tree)), **policies.texts(policy, locale)}
    for name, value in policy.thresholds.items():
        mark, shown = "{" + name + "}", _number(value, locale)
        entries = {
            k: v.replace(mark, shown) if isinstance(v, str) else v for k, v in entries.items()
        }
    return Texts(locale, entries)
