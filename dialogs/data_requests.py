"""What the GDPR and HR ask of the bot: a user's own data (`mine data`), HR's list and export
of agreement records for their units, and HR's erasure of one person's local data.

HR sees the agreement records (the fields that also go to SharePoint), never the answers of a
dialogue, the self-check or the pulse: those stay between the employee and the manager.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cards import view
from core.fields import STEPS_BY_ID
from core.texts import Texts
from dialogs.screens import Screens
from dialogs.turn import Actor, Reply, TurnResult
from store.database import Database
from store.personal_data import PersonalData

log = logging.getLogger(__name__)

#: Teams takes messages up to about 100 KB; an export is sent in parts well below that.
EXPORT_PART_CHARS = 20_000
HR_LINES = 30
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


def hr_record(record: dict[str, Any]) -> dict[str, Any]:
    return {
        **{key: record.get(key) for key in HR_FIELDS},
        "employee": record["employee"]["name"],
        "manager": record["manager"]["name"],
        "actions": [a["key"] for a in record.get("actions", []) if a.get("kind") == "action"],
    }


class DataRequests:
    def __init__(self, db: Database, screens: Screens, hr_units: dict[str, frozenset[str]]) -> None:
        self.db = db
        self.data = PersonalData(db)
        self.screens = screens
        self.hr_units = hr_units

    async def my_data(self, actor: Actor) -> TurnResult:
        t = actor.texts
        mine = await self.data.export(actor.user_id)
        facts = [
            {"title": t(f"my_data.{key}"), "value": str(len(mine[key]))}
            for key in (
                "dialogues_as_manager",
                "dialogues_about_me",
                "agreements",
                "self_checks",
                "conversations",
                "pulse_answers",
                "reminders_sent",
            )
        ]
        card = self.screens.overview(
            t,
            t("my_data.title"),
            [{"title": t("my_data.intro"), "facts": facts}],
            [{"title": t("my_data.export"), "data": {"verb": "my_data_export"}}],
        )
        return TurnResult.show(card)

    async def my_data_export(self, actor: Actor) -> TurnResult:
        log.info("personal data exported by its owner")
        return TurnResult(replies=json_messages(await self.data.export(actor.user_id)))

    # --- HR -----------------------------------------------------------------------------------

    def _units(self, actor: Actor) -> frozenset[str] | None:
        return self.hr_units.get(actor.user_id.lower())

    async def _records(self, units: frozenset[str]) -> list[dict[str, Any]]:
        """The newest version of each agreement in the HR user's units."""
        rows = await self.db.fetchall(
            "SELECT a.record FROM agreements a JOIN dialogues d ON d.id = a.dialogue_id"
            " WHERE a.version = d.agreement_version ORDER BY a.created_at DESC"
        )
        records = [json.loads(r["record"]) for r in rows]
        if "*" in units:
            return records
        return [r for r in records if (r.get("unit") or "").strip().casefold() in units]

    def _refused(self, t: Texts) -> TurnResult:
        log.warning("HR command refused: not an HR user")
        return TurnResult.say(t("hr.refused"))

    async def hr_list(self, actor: Actor) -> TurnResult:
        t = actor.texts
        units = self._units(actor)
        if units is None:
            return self._refused(t)
        records = await self._records(units)
        outcome = STEPS_BY_ID["outcome"]
        facts = [
            {
                "title": f"{r['employee']['name'] or t('fields.employee.picked')} ({r.get('unit') or '–'})",
                "value": t(
                    "status.agreement_value",
                    decision=view.display(outcome.field("decision"), r["decision"], t),
                    follow_up=view.display(outcome.field("follow_up_date"), r["follow_up_date"], t),
                    state=t(f"states.{r['state']}"),
                ),
            }
            for r in records[:HR_LINES]
        ]
        if len(records) > HR_LINES:
            facts.append({"title": "…", "value": t("status.more", count=len(records) - HR_LINES)})
        sections = (
            [{"title": t("hr.agreements", count=len(records)), "facts": facts}] if records else []
        )
        buttons = [{"title": t("hr.export"), "data": {"verb": "hr_export"}}] if records else []
        return TurnResult.show(self.screens.overview(t, t("hr.title"), sections, buttons))

    async def hr_export(self, actor: Actor) -> TurnResult:
        units = self._units(actor)
        if units is None:
            return self._refused(actor.texts)
        log.info("agreement records exported by HR")
        return TurnResult(replies=json_messages([hr_record(r) for r in await self._records(units)]))

    async def hr_erase(self, actor: Actor, person: str) -> TurnResult:
        t = actor.texts
        units = self._units(actor)
        if units is None or "*" not in units:
            return self._refused(t)
        if not person or len(person) > 64:
            return TurnResult.say(t("hr.erase_usage"))
        counts = await self.data.erase(person)
        log.warning("one person's local data erased by HR", extra={"rows": sum(counts.values())})
        return TurnResult.say(t("hr.erased", **counts))
