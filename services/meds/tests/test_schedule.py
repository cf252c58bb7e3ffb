"""Pure schedule logic: rules by repeat type, the dates each type implies, local 'today'."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from pillpal_meds.schedule import format_hhmm, local_today, resolve, schedule_problems, times_problems

D1, D2 = date(2026, 12, 7), date(2026, 12, 21)


def sched(**kw):
    return {
        "repeat_type": "daily",
        "day_mask": None,
        "times": ["08:00"],
        "custom_start": None,
        "custom_end": None,
        **kw,
    }


@pytest.mark.parametrize(
    ("schedule", "problems"),
    [
        (sched(), set()),
        (sched(repeat_type="weekly", day_mask="0100000"), set()),
        (sched(repeat_type="weekly"), {"day_mask"}),
        (sched(repeat_type="weekly", day_mask="0000000"), {"day_mask"}),
        (sched(repeat_type="custom", custom_start=D1, custom_end=D2), set()),
        (sched(repeat_type="custom", custom_start=D2, custom_end=D1), {"custom_end"}),
        (sched(repeat_type="custom"), {"custom_start", "custom_end"}),
        (sched(repeat_type="once", custom_start=D1, custom_end=D1), set()),
        (sched(repeat_type="once", custom_start=D1), set()),
        (sched(repeat_type="once", custom_start=D1, custom_end=D2), {"custom_end"}),
        (sched(repeat_type="once", custom_end=D1), {"custom_start"}),
        (sched(custom_start=D2, custom_end=D1), {"custom_end"}),
    ],
)
def test_schedule_problems_name_their_field(schedule, problems):
    assert set(schedule_problems(schedule)) == problems


def test_times_problems():
    assert times_problems(["08:00"]) == []
    assert times_problems([]) and times_problems(["08:00"] * 2) and times_problems(["01:00"] * 5)


def test_daily_means_every_day_and_keeps_the_given_dates():
    resolved = resolve(sched(day_mask="0101010", times=["20:00", "08:00"]), start_date=D1, end_date=None)
    assert resolved.day_mask == "1111111"
    assert resolved.times == [time(8), time(20)]
    assert (resolved.start_date, resolved.end_date, resolved.custom_start) == (D1, None, None)


def test_weekly_keeps_its_mask():
    assert resolve(sched(repeat_type="weekly", day_mask="1000001"), start_date=D1, end_date=D2).day_mask == "1000001"


def test_once_and_custom_take_their_dates_from_custom_start_and_end():
    custom = resolve(sched(repeat_type="custom", custom_start=D1, custom_end=D2), start_date=None, end_date=None)
    assert (custom.start_date, custom.end_date, custom.day_mask) == (D1, D2, "1111111")
    once = resolve(sched(repeat_type="once", custom_start=D1), start_date=None, end_date=None)
    assert (once.start_date, once.end_date, once.custom_end) == (D1, D1, D1)


def test_local_today_follows_the_time_zone():
    now = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    assert local_today(lambda: now, "UTC") == date(2026, 12, 4)
    assert local_today(lambda: now, "Europe/Berlin") == date(2026, 12, 5)
    assert local_today(lambda: now, "America/New_York") == date(2026, 12, 4)
    assert local_today(lambda: now, None) == date(2026, 12, 4)
    assert local_today(lambda: now, "Not/AZone") == date(2026, 12, 4)


def test_format_hhmm_zero_pads():
    assert format_hhmm(time(8, 5)) == "08:05"
    assert format_hhmm(time(0, 0)) == "00:00"
