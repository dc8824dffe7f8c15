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
    MY_DATA = "my_data"
    HR_LIST = "hr_list"
    HR_EXPORT = "hr_export"
    HR_ERASE = "hr_erase"  # takes the person's Entra object id
    REMINDERS_ON = "reminders_on"


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
    "mine data": Command.MY_DATA,
    "my data": Command.MY_DATA,
    "hr": Command.HR_LIST,
    "hr eksport": Command.HR_EXPORT,
    "hr export": Command.HR_EXPORT,
    "påmindelser til": Command.REMINDERS_ON,
    "paamindelser til": Command.REMINDERS_ON,
    "reminders on": Command.REMINDERS_ON,
}
_WITH_ARGUMENT: dict[str, Command] = {"hr slet": Command.HR_ERASE, "hr erase": Command.HR_ERASE}

_SPACES = re.compile(r"\s+")


def parse(text: str | None) -> Command | None:
    """The command in ``text`` (mention already removed), or None."""
    return parse_with_argument(text)[0]


def parse_with_argument(text: str | None) -> tuple[Command | None, str]:
    """The command and what follows it (``hr slet <id>``); ("", None) when none."""
    if not text:
        return None, ""
    words = _SPACES.sub(" ", text).strip().strip(".!").casefold()
    if words in _WORDS:
        return _WORDS[words], ""
    for prefix, command in _WITH_ARGUMENT.items():
        if words.startswith(prefix + " "):
            return command, words[len(prefix) + 1 :].strip()
    return None, ""
