"""The weekly send time across daylight saving and Danish public holidays."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.schedule import WeeklySlot, danish_holidays

CPH = ZoneInfo("Europe/Copenhagen")
MONDAY_9 = WeeklySlot(0, time(9, 0), CPH)
HOLIDAYS = danish_holidays(range(2026, 2028))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("week", "expected"),
    [
        (13, utc(2026, 3, 23, 8, 0)),  # before the last Sunday of March: CET, UTC+1
        (14, utc(2026, 3, 30, 7, 0)),  # after it: CEST, UTC+2 — still 09:00 in Copenhagen
        (43, utc(2026, 10, 19, 7, 0)),  # before the last Sunday of October: CEST
        (44, utc(2026, 10, 26, 8, 0)),  # after it: CET
    ],
)
def test_monday_nine_stays_nine_across_daylight_saving(week, expected):
    sent = MONDAY_9.send_time(2026, week, HOLIDAYS)
    assert sent == expected
    assert sent.astimezone(CPH).time() == time(9, 0)


@pytest.mark.parametrize(
    ("week", "moved_to"),
    [
        (15, utc(2026, 4, 7, 7, 0)),  # Easter Monday 6 April → Tuesday
        (22, utc(2026, 5, 26, 7, 0)),  # Whit Monday 25 May → Tuesday
        (13, utc(2027, 3, 30, 7, 0)),  # 2027: Easter Monday 29 March → Tuesday
    ],
)
def test_a_holiday_monday_moves_to_the_next_working_day(week, moved_to):
    year = moved_to.year
    assert MONDAY_9.send_time(year, week, HOLIDAYS) == moved_to


def test_a_thursday_slot_skips_maundy_thursday_and_good_friday_and_the_weekend():
    thursday = WeeklySlot(3, time(9, 0), CPH)
    # 2026: Maundy Thursday 2 April, Good Friday 3 April, Easter Monday 6 April → Tuesday 7 April
    assert thursday.send_time(2026, 14, HOLIDAYS) == utc(2026, 4, 7, 7, 0)


def test_due_week_follows_the_moved_send():
    assert MONDAY_9.due_week(utc(2026, 4, 6, 12, 0), HOLIDAYS) == (
        2026,
        14,
    )  # Easter Monday: not yet
    assert MONDAY_9.due_week(utc(2026, 4, 7, 7, 0), HOLIDAYS) == (2026, 15)
    assert MONDAY_9.due_week(utc(2026, 3, 30, 6, 59), HOLIDAYS) == (2026, 13)
    assert MONDAY_9.due_week(utc(2026, 3, 30, 7, 0), HOLIDAYS) == (2026, 14)
