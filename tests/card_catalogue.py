"""Every card the bot can send, in both locales and both employee-input modes, built through
the same Screens the bot uses: the set the schema and size tests run over."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from cards.item_screens import ITEMS_SHOWN, ItemScreens
from cards.overview_screens import OverviewScreens, tab_link
from cards.reminder_screens import ReminderScreens
from cards.renderer import CardRenderer
from cards.screens import HR_LINES, MY_DATA_KINDS, STATUS_LINES, Screens, StatusData
from core.action_items import ActionItem, items_for
from core.agreement import build_record
from core.answers import AgreementRecord, SelfCheckAnswers
from core.dialogue import AWAITING_EMPLOYEE, CONFIRMED, DISPUTED, IN_PROGRESS, Dialogue
from core.dialogue import SEQUENCE as DIALOGUE_SEQUENCE
from core.fields import FORM_STEPS, NOTE_MAX, REQUEST, SELF_CHECK_STEPS, STEPS_BY_ID
from core.overview_model import Cell, Figure, Overview, Period, Series, UnitOverview
from core.reminders import PULSE_TOPICS, Digest
from core.requests import COMMENT_MAX, CONVERSATION, FOLLOW_UP, KINDS, ConversationRequest
from core.self_check import DONE, SelfCheck
from core.texts import LOCALES, Texts, texts_for
from core.validation import validate_step
from reminders.planner import NudgeItem
from tests.answers import SELF_CHECK_ANSWERS, STEP_ANSWERS


def answered_dialogue(locale: str, upto: str) -> Dialogue:
    d = Dialogue(id="d" * 32, manager_id="m", manager_name="Lone Leder", locale=locale)
    for step in FORM_STEPS:
        if step.id == upto:
            break
        values, _ = validate_step(step, STEP_ANSWERS[step.id], date.today())
        d.answers.put(step.id, values)
    d.employee_name = "Mette Sørensen"
    d.step = upto
    return d


def long_text_dialogue(locale: str) -> Dialogue:
    """Every text answer at its maximum length: the largest review card there can be."""
    d = answered_dialogue(locale, "review")
    for step in FORM_STEPS:
        values = d.answers.values(step.id)
        for f in step.fields:
            if f.kind in ("text", "person") and f.max_len:
                values[f.id] = "Æ" * f.max_len
        d.answers.put(step.id, values)
    return d


def done_self_check(locale: str) -> SelfCheck:
    check = SelfCheck(
        id="s" * 32, employee_id="e", employee_name="Mette Sørensen", locale=locale, state=DONE
    )
    for step in SELF_CHECK_STEPS:
        values, _ = validate_step(step, SELF_CHECK_ANSWERS[step.id], date.today())
        check.answers.put(step.id, values)
    check.step = SELF_CHECK_STEPS[-1].id
    return check


def all_cards() -> Iterator[tuple[str, dict[str, Any]]]:
    renderer = CardRenderer()
    for locale in LOCALES:
        t = texts_for(locale)
        for picker in (False, True):
            screens = Screens(renderer, people_picker=picker, sharepoint=picker)
            tag = f"{locale}/{'picker' if picker else 'text'}"
            yield f"welcome {tag}", screens.welcome(t)
            yield f"help {tag}", screens.help(t)
            check = done_self_check(locale)
            for step_id in DIALOGUE_SEQUENCE.ids:
                d = answered_dialogue(locale, step_id)
                yield f"{step_id} {tag}", screens.step(d, t)
                yield f"{step_id} self-check {tag}", screens.step(d, t, self_check=check)
                if step_id in STEPS_BY_ID:
                    step = STEPS_BY_ID[step_id]
                    _, errors = validate_step(step, {}, date.today())
                    yield f"{step_id} errors {tag}", screens.step(d, t, {}, errors)
                    yield (
                        f"{step_id} answered {tag}",
                        screens.answered_step(answered_dialogue(locale, "review").answers, step, t),
                    )
            against = answered_dialogue(locale, "outcome")
            against.answers.put(
                "weighing", {**against.answers.values("weighing"), "weigh_organisation": "against"}
            )
            yield f"outcome against the organisation {tag}", screens.step(against, t)
            big = long_text_dialogue(locale)
            yield f"review long {tag}", screens.review(big, t)
            record = build_record(big, 1, AWAITING_EMPLOYEE, "2026-11-26")
            yield f"agreement long {tag}", screens.agreement(record, t, check)
            envelope = {"dialogue_id": big.id, "version": 9, "step": "review"}
            yield (
                f"agreement confirm {tag}",
                screens.agreement(record, t, check, confirm=envelope, intro="x"),
            )
            disputed = record.model_copy(update={"state": DISPUTED, "employee_comment": "Æ" * 1000})
            yield f"agreement disputed {tag}", screens.agreement(disputed, t)
            yield f"dispute {tag}", screens.dispute(big, "Æ" * 1000, t)
            yield from follow_up_cards(screens, t, big, record, check, tag)
            yield f"invitation {tag}", screens.invitation(big, t)
            yield f"cancel {tag}", screens.cancel_question(answered_dialogue(locale, "tasks"), t)
            for step in SELF_CHECK_STEPS:
                open_check = done_self_check(locale)
                open_check.step = step.id
                yield f"{step.id} {tag}", screens.self_check_step(open_check, t)
                _, errors = validate_step(step, {}, date.today())
                yield f"{step.id} errors {tag}", screens.self_check_step(open_check, t, {}, errors)
            yield f"self_check_result {tag}", screens.self_check_result(check, t)
            fine = done_self_check(locale)
            fine.answers = SelfCheckAnswers()
            yield f"self_check_result fine {tag}", screens.self_check_result(fine, t)
            no_home = answered_dialogue(locale, "review")
            no_home.answers.put(
                "outcome", {**no_home.answers.values("outcome"), "decision": "not_approved"}
            )
            yield f"review no rules {tag}", screens.review(no_home, t)
            yield f"answered plain {tag}", screens.answered("Titel", "Note")
            empty = StatusData([], [], None, False, None)
            yield f"status empty {tag}", screens.status_card(t, empty)
            # At most STATUS_LINES lines a group, plus one "and N more", and five buttons.
            many = []
            for i, state in enumerate(
                [IN_PROGRESS, DISPUTED, AWAITING_EMPLOYEE, CONFIRMED] * (STATUS_LINES + 1)
            ):
                d = long_text_dialogue(locale)
                d.id, d.state, d.agreement_version = f"{i:032d}", state, 1
                d.employee_name = "Æ" * 200
                many.append(d)
            saved = {d.id: i % 2 == 0 for i, d in enumerate(many)}
            due = frozenset(d.id for d in many if d.state == CONFIRMED)
            full = StatusData(many, many, saved, True, None, follow_ups=due)
            yield f"status full {tag}", screens.status_card(t, full)
            if not picker:
                yield f"my data {tag}", screens.my_data(t, dict.fromkeys(MY_DATA_KINDS, 3))
                hr_records = [record] * (HR_LINES + 1)
                yield f"hr list {tag}", screens.hr_list(t, hr_records)
            items = many_items(record)
            yield from item_cards(ItemScreens(renderer), t, items, tag)
            with_items = StatusData([], many, saved, False, None, len(items), 2)
            yield f"status with items {tag}", screens.status_card(t, with_items)
            yield from reminder_cards(ReminderScreens(renderer), t, big, tag, items)
            if not picker:
                yield from overview_cards(OverviewScreens(renderer), t, tag)


def many_items(record: Any) -> list[ActionItem]:
    """More items than a card shows, with the longest names, some for the employee."""
    record = record.model_copy(
        update={"employee": record.employee.model_copy(update={"id": "e", "name": "Æ" * 200})}
    )
    found = items_for(record)
    assert len({i.owner_role for i in found}) >= 2, "the catalogue needs several owners"
    return (found * (ITEMS_SHOWN // len(found) + 2))[: ITEMS_SHOWN + 3]


def item_cards(
    screens: ItemScreens, t: Texts, items: list[ActionItem], tag: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """A manager's and an employee's open items (more than a card shows, some overdue), and
    the card when none is left."""
    today = date(2027, 6, 1)
    yield f"items manager {tag}", screens.items(t, items, "m", today)
    yield f"items employee {tag}", screens.items(t, items, "e", today)
    yield f"items none {tag}", screens.items(t, [], "e", today)


def follow_up_cards(
    screens: Screens,
    t: Texts,
    big: Dialogue,
    record: AgreementRecord,
    check: SelfCheck,
    tag: str,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Follow-up and renewal, and the employee's requests: the largest of each card."""
    confirmed = long_text_dialogue(big.locale)
    confirmed.state, confirmed.agreement_version, confirmed.in_force_version = CONFIRMED, 1, 1
    in_force = record.model_copy(update={"state": CONFIRMED})
    yield (
        f"agreement manager follow-up {tag}",
        screens.agreement(in_force, t, check, manage=confirmed, follow_up_due=True),
    )
    yield f"agreement manager reopen {tag}", screens.agreement(in_force, t, manage=confirmed)
    yield f"agreement employee ask {tag}", screens.agreement(in_force, t, ask=confirmed)
    renewal = long_text_dialogue(big.locale)
    renewal.in_force_version, renewal.reopen_reason = 1, "Æ" * NOTE_MAX
    before = answered_dialogue(big.locale, "review")  # every answer differs from the long one
    v1 = build_record(before, 1, CONFIRMED, "2026-11-26")
    yield f"review follow-up changes {tag}", screens.review(renewal, t, check, v1)
    yield f"review follow-up unchanged {tag}", screens.review(before, t, None, v1)
    v2 = build_record(renewal, 2, AWAITING_EMPLOYEE, "2026-11-27").model_copy(
        update={"replaces_version": 1, "valid_until": date(2027, 12, 31)}
    )
    yield f"agreement version 2 {tag}", screens.agreement(v2, t, check)
    envelope = {"dialogue_id": renewal.id, "version": 9, "step": "review"}
    yield (
        f"agreement version 2 to confirm {tag}",
        screens.agreement(v2, t, check, confirm=envelope, intro="x", in_force=v1),
    )
    yield f"request form {tag}", screens.request_form(t, {}, [], True)
    yield f"request form no self-check {tag}", screens.request_form(t, {}, [], False)
    _, errors = validate_step(REQUEST, {}, date.today())
    yield f"request form errors {tag}", screens.request_form(t, {}, errors, True)
    for kind in KINDS:
        request = ConversationRequest(
            id="r" * 32,
            kind=kind,
            employee_id="e",
            manager_id="m",
            locale=big.locale,
            comment="Æ" * COMMENT_MAX if kind == FOLLOW_UP else None,
        )
        data = {"verb": "request_start", "request_id": request.id}
        yield (
            f"request received {kind} {tag}",
            screens.request_received(
                request,
                t,
                employee="Æ" * 200,
                button=t("buttons.start_requested"),
                data=data,
                self_check=check if kind == CONVERSATION else None,
            ),
        )


def overview_cards(
    screens: OverviewScreens, t: Texts, tag: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The ``overblik`` card: many long unit names, hidden and shown figures, two series."""
    hidden, shown = Cell(value=None, suppressed=True), Cell(value=12.0)
    figure = Figure(
        key="f",
        title="Æ" * 80,
        measure="count",
        chart="stacked_bar",
        categories=("a" * 60, "b", "c"),
        category_keys=("a", "b", "c"),
        series=(
            Series(key="s1", label="Æ" * 40, cells=(shown, hidden, shown)),
            Series(key="s2", label="Ø", cells=(hidden, shown, hidden)),
        ),
    )
    period = Period(
        key="2026-Q4", label="4. kvartal 2026", start=date(2026, 10, 1), end=date(2026, 12, 31)
    )
    units = tuple(
        UnitOverview(unit=f"{i}" * 100, label=f"{i}" * 100, people=shown, figures=(figure,))
        for i in range(10)
    ) + (UnitOverview(unit=None, label="x", people=hidden, figures=()),)
    overview = Overview(
        period=period, k=5, locale=t.locale, units=units, generated_at=datetime.now(UTC)
    )
    link = tab_link("5f0c2d1e-7a43-4b8e-9c61-2e8d4f7a9b30", "http://127.0.0.1/overview")
    yield f"overview {tag}", screens.card(t, overview, link)


def reminder_cards(
    screens: ReminderScreens,
    t: Texts,
    dialogue: Dialogue,
    tag: str,
    items: list[ActionItem] | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The pulse (also with the employee's open items), its answered versions, the fullest
    digest there can be, the nudge."""
    yield f"pulse {tag}", screens.pulse(t, "2026-W49")
    if items:
        yield f"pulse with items {tag}", screens.pulse(t, "2026-W49", items)
    answers = dict.fromkeys(PULSE_TOPICS, "problem")
    yield f"pulse answered {tag}", screens.pulse_answered(t, answers, [])
    yield f"pulse answered shared {tag}", screens.pulse_answered(t, answers, list(PULSE_TOPICS))
    yield f"pulse snoozed {tag}", screens.answered_note(t, t("pulse.snoozed"))
    many = [dialogue] * 40
    requests = [
        ConversationRequest(
            id="r",
            kind=kind,
            employee_id="e",
            manager_id="m",
            locale="da-DK",
            employee_name="Æ" * 200,
        )
        for kind in KINDS
    ] * 20
    expired = Dialogue(**{**dialogue.__dict__})
    expired.answers = dialogue.answers.model_copy(deep=True)
    expired.answers.put(
        "outcome", {**expired.answers.values("outcome"), "valid_until": "2026-01-31"}
    )
    full = Digest(
        many,
        many,
        many,
        many,
        many,
        [(dialogue, list(PULSE_TOPICS))] * 40,
        expired=[expired] * 40,
        requests=requests,
        due_now=many,
        handed_over=many,
        overdue_items=(items or []) * 4,
    )
    yield f"digest full {tag}", screens.digest(t, full)
    yield f"digest one line {tag}", screens.digest(t, Digest(disputed=[dialogue]))
    items = [NudgeItem("confirm", dialogue), NudgeItem("self_check", dialogue)] * 3
    yield f"nudge {tag}", screens.nudge(t, items)
