"""Route a typed command or a card submit to the handler that owns it."""

from __future__ import annotations

from typing import Any

from core.commands import Command, parse
from dialogs.manager_dialogue import DIALOGUE_VERBS, ManagerDialogue
from dialogs.screens import Screens
from dialogs.turn import Actor, TurnResult


class Router:
    def __init__(self, manager: ManagerDialogue, screens: Screens) -> None:
        self.manager = manager
        self.screens = screens

    def welcome(self, actor: Actor) -> TurnResult:
        return TurnResult.show(self.screens.welcome(actor.texts))

    async def command(self, actor: Actor, command: Command, pointer: str | None) -> TurnResult:
        if command is Command.HELP:
            return TurnResult.show(self.screens.help(actor.texts))
        if command is Command.START:
            return await self.manager.start(actor)
        if command is Command.CONTINUE:
            return await self.manager.resume(actor, pointer)
        if command is Command.CANCEL:
            return await self.manager.cancel_open(actor, pointer)
        return await self.manager.status(actor)

    async def on_text(self, actor: Actor, text: str | None, pointer: str | None) -> TurnResult:
        command = parse(text)
        if command is None:
            return TurnResult.say(actor.texts("commands.hint"))
        return await self.command(actor, command, pointer)

    async def on_card(self, actor: Actor, data: dict[str, Any], pointer: str | None) -> TurnResult:
        verb = data.get("verb")
        if verb in DIALOGUE_VERBS:
            return await self.manager.on_submit(actor, data)
        # Buttons that are not tied to a dialogue: the welcome, help and status cards.
        plain = {"start": Command.START, "help": Command.HELP, "continue": Command.CONTINUE}
        if isinstance(verb, str) and verb in plain:
            return await self.command(actor, plain[verb], pointer)
        return TurnResult.say(actor.texts("notices.unknown_action"))
