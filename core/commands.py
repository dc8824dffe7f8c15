"""Recognise the typed commands, in Danish and English, whatever the case."""

from __future__ import annotations

import re
from enum import Enum


class Command(Enum):
    HELP = "help"
    START = "start"
    CONTINUE = "continue"
    STATUS = "status"
    CANCEL = "cancel"
    SELF_CHECK = "self_check"


_WORDS: dict[str, Command] = {
    "hjælp": Command.HELP,
    "hjaelp": Command.HELP,
    "help": Command.HELP,
    "?": Command.HELP,
    "start": Command.START,
    "ny samtale": Command.START,
    "ny": Command.START,
    "new": Command.START,
    "new conversation": Command.START,
    "fortsæt": Command.CONTINUE,
    "fortsaet": Command.CONTINUE,
    "continue": Command.CONTINUE,
    "status": Command.STATUS,
    "afbryd": Command.CANCEL,
    "cancel": Command.CANCEL,
    "selvtjek": Command.SELF_CHECK,
    "self-check": Command.SELF_CHECK,
    "self check": Command.SELF_CHECK,
    "selfcheck": Command.SELF_CHECK,
}

_SPACES = re.compile(r"\s+")


def parse(text: str | None) -> Command | None:
    """The command in ``text`` (mention already removed), or None."""
    if not text:
        return None
    words = _SPACES.sub(" ", text).strip().strip(".!").casefold()
    return _WORDS.get(words)
