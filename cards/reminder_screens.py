"""The reminder cards: the employee's weekly pulse, the manager's digest, and the nudge."""

from __future__ import annotations

from typing import Any

from cards import view
from cards.item_screens import ItemScreens
from cards.renderer import CardRenderer
from cards.screens import employee_display
from cards.view import input_label
from core.action_items import ActionItem
from core.reminders import DIGEST, NUDGE, PULSE, PULSE_CHOICES, PULSE_TOPICS, Digest
from core.texts import Texts

#: The most lines a digest section shows, plus one "and N more".
DIGEST_LINES = 15
#: "Følg op" buttons on the digest, beside status and stop (Teams shows few actions).
DIGEST_BUTTONS = 3


def _stop(kind: str) -> dict[str, Any]:
    return {"verb": "reminders_stop", "kind": kind}


class ReminderScreens:
    def __init__(self, renderer: CardRenderer) -> None:
        self.renderer = renderer

    def _buttons(self, t: Texts) -> dict[str, str]:
        return {
            key: t(f"reminders.buttons.{key}") for key in ("answer", "snooze", "stop", "status")
        }

    def pulse(self, t: Texts, week: str, items: list[ActionItem] | None = None) -> dict[str, Any]:
        """The weekly pulse; it also names the employee's own open action items."""
        return self.renderer.render(
            "pulse",
            title=t("pulse.title"),
            intro=t("pulse.intro"),
            items_line=ItemScreens.pulse_line(items or [], t),
            topics=[
                {"id": topic, "label": input_label(t(f"pulse.topics.{topic}"), True, t)}
                for topic in PULSE_TOPICS
            ],
            choices=[{"title": t(f"pulse.choices.{c}"), "value": c} for c in PULSE_CHOICES],
            error=t("pulse.error"),
            shared_note=t("pulse.shared_note"),
            buttons=self._buttons(t),
            data_answer={"verb": "pulse_answer", "week": week},
            data_snooze={"verb": "pulse_snooze", "week": week},
            data_stop=_stop(PULSE),
        )

    def pulse_answered(
        self, t: Texts, answers: dict[str, str], shared: list[str]
    ) -> dict[str, Any]:
        note = (
            t("pulse.answered_shared", topics=", ".join(t(f"pulse.topics.{s}") for s in shared))
            if shared
            else t("pulse.answered")
        )
        facts = [
            {"title": t(f"pulse.topics.{topic}"), "value": t(f"pulse.choices.{answers[topic]}")}
            for topic in PULSE_TOPICS
        ]
        return self.renderer.render("answered", title=t("pulse.title"), note=note, answers=facts)

    def answered_note(self, t: Texts, note: str) -> dict[str, Any]:
        return self.renderer.render("answered", title=t("pulse.title"), note=note, answers=[])

    def digest(self, t: Texts, digest: Digest) -> dict[str, Any]:
        def names(dialogues: list[Any]) -> list[str]:
            return [employee_display(d, t) for d in dialogues]

        def follow_ups(key: str, dialogues: list[Any]) -> list[str]:
            """A line per dialogue whose follow-up is due, with its date."""
            return [
                t(
                    key,
                    employee=employee_display(d, t),
                    date=view.day(d.answers.follow_up_date, t)
                    if d.answers.follow_up_date
                    else t("common.not_answered"),
                )
                for d in dialogues
            ]

        sections = []
        for key, lines in (
            ("awaiting_employee", names(digest.awaiting_employee)),
            ("unfinished", names(digest.unfinished)),
            ("follow_ups", follow_ups("digest.follow_up_line", digest.follow_ups)),
            (
                "expired",
                [
                    t(
                        "digest.expired_line",
                        employee=employee_display(d, t),
                        date=view.day(d.answers.valid_until, t),
                    )
                    for d in digest.expired
                ],
            ),
            ("handed_over", follow_ups("digest.handed_over_line", digest.handed_over)),
            (
                "requests",
                [
                    t(
                        f"digest.request_{r.kind}",
                        employee=r.employee_name or t("fields.employee.picked"),
                    )
                    for r in digest.requests
                ],
            ),
            ("disputed", names(digest.disputed)),
            ("unreachable", names(digest.unreachable)),
            (
                "pulse_problems",
                [
                    t(
                        "digest.pulse_line",
                        employee=employee_display(d, t),
                        topics=", ".join(t(f"pulse.topics.{topic}") for topic in topics),
                    )
                    for d, topics in digest.pulse_problems
                ],
            ),
            ("overdue_items", [ItemScreens.overdue_line(i, t) for i in digest.overdue_items]),
        ):
            if len(lines) > DIGEST_LINES:  # the card stays small for a manager of many
                lines = [*lines[:DIGEST_LINES], t("status.more", count=len(lines) - DIGEST_LINES)]
            if lines:
                sections.append({"title": t(f"digest.{key}"), "lines": lines})
        return self.renderer.render(
            "digest",
            title=t("digest.title"),
            intro=t("digest.intro"),
            sections=sections,
            buttons=self._buttons(t),
            follow_ups=[
                {
                    "title": t("buttons.follow_up_with", employee=employee_display(d, t)),
                    "data": {"verb": "follow_up", "dialogue_id": d.id, "version": d.version},
                }
                for d in digest.due_now[:DIGEST_BUTTONS]
            ],
            data_stop=_stop(DIGEST),
        )

    def nudge(self, t: Texts, items: list[Any]) -> dict[str, Any]:
        lines, buttons = [], []
        for item in items:
            manager = item.dialogue.manager_name
            lines.append(t(f"nudge.{item.what}", manager=manager))
            if item.what == "confirm":
                data = {"verb": "show_agreement", "dialogue_id": item.dialogue.id}
                buttons.append(
                    {"title": t("buttons.show_agreement", manager=manager), "data": data}
                )
        if any(item.what == "self_check" for item in items):
            buttons.append({"title": t("buttons.self_check"), "data": {"verb": "sc_start"}})
        return self.renderer.render(
            "nudge",
            title=t("nudge.title"),
            lines=lines,
            buttons_for_items=buttons[:4],
            buttons=self._buttons(t),
            data_stop=_stop(NUDGE),
        )

    def stopped(self, t: Texts, kind: str) -> str:
        return t(f"reminders.stopped.{kind}")
