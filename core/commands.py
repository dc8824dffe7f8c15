"""Recognise the typed commands, in Danish and English, whatever the case.

A command is the name of a verb in the route table (dialogs/routes.py): typing ``start`` does
what the Start button does.
"""

from __future__ import annotations

import re

_WORDS: dict[str, str] = {
    "hjælp": "help",
    "hjaelp": "help",
    "help": "help",
    "?": "help",
    "start": "start",
    "ny samtale": "start",
    "ny": "start",
    "new": "start",
    "new conversation": "start",
    "fortsæt": "continue",
    "fortsaet": "continue",
    "continue": "continue",
    "status": "status",
    "afbryd": "cancel_open",
    "cancel": "cancel_open",
    "selvtjek": "sc_start",
    "self-check": "sc_start",
    "self check": "sc_start",
    "selfcheck": "sc_start",
    "bed om samtale": "request",
    "bed om en samtale": "request",
    "anmod om samtale": "request",
    "ønsk samtale": "request",
    "request": "request",
    "request conversation": "request",
    "request a conversation": "request",
    "ask for a conversation": "request",
    "mine data": "my_data",
    "my data": "my_data",
    "hr": "hr_list",
    "hr eksport": "hr_export",
    "hr export": "hr_export",
    "påmindelser til": "reminders_on",
    "paamindelser til": "reminders_on",
    "reminders on": "reminders_on",
    "overblik": "overview",
    "overview": "overview",
    "stedfortræder fjern": "substitute_remove",
    "stedfortraeder fjern": "substitute_remove",
    "substitute remove": "substitute_remove",
}
#: Commands followed by an argument: ``hr slet <Entra object id>``.
_WITH_ARGUMENT: dict[str, str] = {
    "hr slet": "hr_erase",
    "hr erase": "hr_erase",
    # ``hr stedfortræder <manager's object id> <substitute's object id>``
    "hr stedfortræder": "hr_substitute",
    "hr stedfortraeder": "hr_substitute",
    "hr substitute": "hr_substitute",
    # ``stedfortræder <name or object id>``: the manager names their substitute
    "stedfortræder": "substitute",
    "stedfortraeder": "substitute",
    "substitute": "substitute",
}

_SPACES = re.compile(r"\s+")


def parse(text: str | None) -> tuple[str | None, str]:
    """The verb of the command in ``text`` (mention already removed) and what follows it;
    (None, "") when ``text`` is no command."""
    if not text:
        return None, ""
    words = _SPACES.sub(" ", text).strip().strip(".!").casefold()
    if words in _WORDS:
        return _WORDS[words], ""
    for prefix, verb in _WITH_ARGUMENT.items():
        if words.startswith(prefix + " "):
            return verb, words[len(prefix) + 1 :].strip()
    return None, ""
