"""Every card the bot can send, in both locales, is accessible as Microsoft's own renderer
draws it: axe-core finds no WCAG 2.1 A/AA or best-practice violation, and each card has
exactly one heading.

The cards of ``tests/card_catalogue.all_cards()`` (and the one it lacks, the question
``afbryd`` asks) are rendered one after the other in one page
of headless Debian Chromium with the npm ``adaptivecards`` renderer (the one the Agents
Playground builds on), and axe-core runs on each rendered card (``tests/card_accessibility.js``).
The renderer builds a show-card's content only when it is opened, so a card with a show-card
is checked with it open. A card whose JSON is the same as one checked before (the text and
people-picker variants share most cards) is not rendered twice: it has that card's result.
The page has no address and loads nothing: the scripts are injected from ``node_modules``,
and every request beyond loopback would be aborted (``launch_chromium``).

Host config: the renderer's default. It is close to Teams' light theme, and axe finds no
contrast problem in it, so nothing is changed there (no finding is hidden by a host config).

axe cannot see everything Microsoft's guidance for accessible cards asks for (the renderer
makes a placeholder the accessible name of an input without a label), so the card JSON is
checked too: one TextBlock with ``"style": "heading"``, a ``label`` on every input (a toggle's
``title`` is its label: the renderer draws it as the checkbox's own label), the required
suffix of the content files in the label of every required input and only there,
``isRequired`` with an ``errorMessage``, ``altText`` on every image, and a title on every
action that says what it does (not a bare "OK" or "Send"; "Next" and "Back" are clear on a
step of a form that says "Step 2 of 9").
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.texts import texts_for
from tests.browser.playground import launch_chromium
from tests.card_catalogue import all_cards

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = (
    ROOT / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.min.js",
    ROOT / "node_modules" / "axe-core" / "axe.min.js",
    Path(__file__).resolve().parent / "card_accessibility.js",
)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
#: None: the renderer's default host config (see the module docstring).
HOST_CONFIG: dict[str, Any] | None = None
#: What the host page around the cards gives them in Teams: a language and a main landmark.
PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>Hjemmearbejdsdialog</title></head>
<body><main id="cards"></main></body></html>"""


CARDS = list(all_cards())
NAMES = [name for name, _ in CARDS]
CARDS_BY_NAME = dict(CARDS)

ONE_PIXEL_GIF = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
#: A card that breaks the rules, checked with the others: the check must find each fault.
CONTROL = "control: a card that breaks the rules"
CONTROL_CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "No heading"},
        {"type": "TextBlock", "text": "Pale", "color": "Warning", "isSubtle": True},
        {"type": "Input.Text", "id": "unlabelled"},
        {"type": "Image", "url": f"data:image/gif;base64,{ONE_PIXEL_GIF}"},
    ],
    "actions": [{"type": "Action.Submit", "title": ""}],
}


def _locale(name: str) -> str:
    return "en-US" if "en-US" in name else "da-DK"


async def _check_all() -> tuple[dict[str, dict[str, Any]], float, int]:
    """Render and check every card; a card equal to one already checked gets its result.
    Returns the results by card name, the seconds it took and how many cards were rendered."""
    started = time.monotonic()
    first_of: dict[str, str] = {}
    same_as: dict[str, str] = {}
    batch = []
    for name, card in [*CARDS, (CONTROL, CONTROL_CARD)]:
        lang = _locale(name)[:2]
        key = lang + json.dumps(card, sort_keys=True, ensure_ascii=False)
        if key in first_of:
            same_as[name] = first_of[key]
            continue
        first_of[key] = name
        batch.append({"name": name, "card": card, "lang": lang})
    async with launch_chromium(viewport=(900, 1200)) as browser:
        page = await browser.new_page()
        await page.set_content(PAGE)
        for script in SCRIPTS:
            await page.add_script_tag(path=script)
        checked: list[dict[str, Any]] = await page.evaluate(
            "([cards, config, options]) => window.checkCards(cards, config, options)",
            [batch, HOST_CONFIG, AXE_OPTIONS],
        )
    results = {r["name"]: r for r in checked}
    results.update({name: results[first] for name, first in same_as.items()})
    return results, time.monotonic() - started, len(batch) - 1


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, Any]]:
    """axe's findings and the rendered headings of every card, checked once for the module."""
    results, seconds, different = asyncio.run(_check_all())
    rules = Counter(v["rule"] for n, r in results.items() if n != CONTROL for v in r["violations"])
    print(
        f"\naxe: {len(CARDS)} cards ({different} different) in {seconds:.1f} s,"
        f" violations: {dict(rules) or 0}"
    )
    return results


def _readable(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {v['rule']} ({v['impact']}, {v['state']}): {v['help']}\n"
        f"    at {v['target']}: {v['html']}\n    {v['summary']}".rstrip()
        for v in violations
    )


@pytest.mark.parametrize("name", NAMES)
def test_axe_finds_no_violation(rendered, name):
    result = rendered[name]
    assert result["parseErrors"] == [], f"{name}: {result['parseErrors']}"
    assert not result["violations"], f"{name}:\n{_readable(result['violations'])}"


@pytest.mark.parametrize("name", NAMES)
def test_exactly_one_heading_is_rendered(rendered, name):
    result = rendered[name]
    assert [h["level"] for h in result["headings"]] == ["2"], f"{name}: {result['headings']}"
    for state in result["states"]:  # an open show-card adds none
        assert state["headings"] == result["headings"], f"{name}, {state['state']}"


def test_the_check_finds_what_is_wrong(rendered):
    result = rendered[CONTROL]
    assert {v["rule"] for v in result["violations"]} >= {
        "button-name",
        "color-contrast",
        "image-alt",
        "label",
    }
    assert result["headings"] == []
    assert _headings(CONTROL_CARD) == []
    with pytest.raises(AssertionError, match="no label"):
        _check_inputs(CONTROL, CONTROL_CARD)


# --- Microsoft's guidance, read from the card JSON --------------------------------------------


def _elements(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every element and action of a card, show-cards included, in JSON order."""

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if "type" in node:
                yield node
            for key, value in node.items():
                if key not in ("data", "choices", "choices.data", "msteams"):
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    return walk(card)


def _headings(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in _elements(card) if str(e.get("style", "")).lower() == "heading"]


def _check_inputs(name: str, card: dict[str, Any]) -> None:
    suffix = texts_for(_locale(name))("common.required_suffix")
    for e in _elements(card):
        if not e["type"].startswith("Input."):
            continue
        label = e.get("label")
        if e["type"] == "Input.Toggle":
            label = label or e.get("title")
        assert isinstance(label, str) and label.strip(), f"{name}: {e['id']} has no label"
        if e.get("isRequired"):
            assert label.endswith(f" {suffix}"), f"{name}: {e['id']} {label!r}"
            assert e.get("errorMessage"), f"{name}: {e['id']} has no errorMessage"
        else:
            assert suffix not in label, f"{name}: {e['id']} {label!r} is not required"


@pytest.mark.parametrize("name", NAMES)
def test_one_heading_in_the_json(name):
    card = CARDS_BY_NAME[name]
    assert [h["type"] for h in _headings(card)] == ["TextBlock"], name


@pytest.mark.parametrize("name", NAMES)
def test_inputs_are_labelled_and_say_when_they_are_required(name):
    _check_inputs(name, CARDS_BY_NAME[name])


#: Titles that do not say what a button does, away from the question they answer.
GENERIC_TITLES = {
    "ok", "send", "submit", "save", "yes", "no", "confirm", "send answers",
    "indsend", "gem", "ja", "nej", "bekræft", "send svar",
}  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_images_have_alt_text_and_actions_a_title_that_says_what_they_do(name):
    for e in _elements(CARDS_BY_NAME[name]):
        if e["type"] == "Image":
            assert e.get("altText"), f"{name}: {e.get('url')}"
        if e["type"].startswith("Action."):
            title = str(e.get("title", "")).strip()
            assert title, f"{name}: an action without a title: {e}"
            assert title.lower() not in GENERIC_TITLES, f"{name}: {title!r} says too little"
