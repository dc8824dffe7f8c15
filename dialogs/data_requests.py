"""What the GDPR and HR ask of the bot: a user's own data (`mine data`), HR's list and export
of agreement records for their units, and HR's erasure of one person's local data.

HR sees the agreement records (the fields that also go to SharePoint), never the answers of a
dialogue, the self-check or the pulse: those stay between the employee and the manager.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from cards.screens import MY_DATA_KINDS, Screens
from core.answers import AgreementRecord
from core.texts import Texts
from dialogs.card_data import Argument
from dialogs.turn import Actor, Reply, TurnResult
from store.dialogues import DialogueStore
from store.personal_data import PersonalData
from store.substitutes import SubstituteStore

log = logging.getLogger(__name__)

#: Teams takes messages up to about 100 KB; an export is sent in parts well below that.
EXPORT_PART_CHARS = 20_000
#: The agreement fields HR may see: those that go to SharePoint.
HR_FIELDS = (
    "dialogue_id",
    "version",
    "state",
    "unit",
    "initiated_by",
    "days_per_week",
    "decision",
    "rules",
    "follow_up_date",
    "concluded_at",
    "answered_at",
)


def json_messages(document: Any) -> list[Reply]:
    """A JSON document as one or more code-block messages."""
    text = json.dumps(document, ensure_ascii=False, indent=1, default=str)
    parts = [text[i : i + EXPORT_PART_CHARS] for i in range(0, len(text), EXPORT_PART_CHARS)] or [
        ""
    ]
    return [Reply(text=f"```json\n{part}\n```") for part in parts]


def hr_record(record: AgreementRecord) -> dict[str, Any]:
    stored = record.to_json()
    return {
        **{key: stored.get(key) for key in HR_FIELDS},
        "employee": record.employee.name,
        "manager": record.manager.name,
        "actions": [a.key for a in record.actions if a.kind == "action"],
    }


class DataRequests:
    def __init__(
        self,
        data: PersonalData,
        dialogues: DialogueStore,
        screens: Screens,
        hr_units: Callable[[Actor], Awaitable[frozenset[str] | None]],
        substitutes: SubstituteStore,
    ) -> None:
        self.substitutes = substitutes
        self.data = data
        self.dialogues = dialogues
        self.screens = screens
        self.hr_units = hr_units

    async def my_data(self, actor: Actor, data: Any = None) -> TurnResult:
        t = actor.texts
        mine = await self.data.export(actor.user_id)
        card = self.screens.my_data(t, {key: len(mine[key]) for key in MY_DATA_KINDS})
        return TurnResult.show(card)

    async def my_data_export(self, actor: Actor, data: Any = None) -> TurnResult:
        log.info("personal data exported by its owner")
        mine = await self.data.export(actor.user_id)
        mine["substitutes"] = await self.substitutes.about(actor.user_id)
        return TurnResult(replies=json_messages(mine))

    # --- HR -----------------------------------------------------------------------------------

    async def _units(self, actor: Actor) -> frozenset[str] | None:
        """The units the actor is HR for (lists and groups, dialogs/access.py), or None."""
        return await self.hr_units(actor)

    async def _records(self, units: frozenset[str]) -> list[AgreementRecord]:
        """The newest version of each agreement in the HR user's units."""
        records = await self.dialogues.newest_agreements()
        if "*" in units:
            return records
        return [r for r in records if (r.unit or "").strip().casefold() in units]

    def _refused(self, t: Texts) -> TurnResult:
        log.warning("HR command refused: not an HR user")
        return TurnResult.say(t("hr.refused"))

    async def hr_list(self, actor: Actor, data: Any = None) -> TurnResult:
        t = actor.texts
        units = await self._units(actor)
        if units is None:
            return self._refused(t)
        records = await self._records(units)
        return TurnResult.show(self.screens.hr_list(t, records))

    async def hr_export(self, actor: Actor, data: Any = None) -> TurnResult:
        units = await self._units(actor)
        if units is None:
            return self._refused(actor.texts)
        log.info("agreement records exported by HR")
        return TurnResult(replies=json_messages([hr_record(r) for r in await self._records(units)]))

    async def hr_erase(self, actor: Actor, data: Argument) -> TurnResult:
        t = actor.texts
        person = data.argument
        units = await self._units(actor)
        if units is None or "*" not in units:
            return self._refused(t)
        if not person or len(person) > 64:
            return TurnResult.say(t("hr.erase_usage"))
        counts = await self.data.erase(person)
        counts["substitutes"] = await self.substitutes.forget(person)
        log.warning("one person's local data erased by HR", extra={"rows": sum(counts.values())})
        return TurnResult.say(t("hr.erased", **counts))
