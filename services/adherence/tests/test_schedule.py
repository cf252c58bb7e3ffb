"""Schedule expansion: repeat types, active dates, and daylight-saving changes in Dublin and New York."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pillpal_adherence.schedule import Rule, expand, local_today, to_utc, zone_for

DUBLIN = ZoneInfo("Europe/Dublin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def daily(*times, **kw):
    return Rule("daily", tuple(times), **kw)


# --- Europe/Dublin: 2026-03-29 01:00 GMT -> 02:00 IST; 2026-10-25 02:00 IST -> 01:00 GMT ---------------


def test_dublin_daily_keeps_local_time_across_spring_forward():
    got = expand(daily("08:00"), DUBLIN, date(2026, 3, 27), date(2026, 3, 31))
    assert [o.local_time for o in got] == ["08:00"] * 5
    assert [o.scheduled_at for o in got] == [
        utc(2026, 3, 27, 8),
        utc(2026, 3, 28, 8),
        utc(2026, 3, 29, 7),
        utc(2026, 3, 30, 7),
        utc(2026, 3, 31, 7),
    ]


def test_dublin_nonexistent_time_moves_forward_once():
    got = expand(daily("01:30"), DUBLIN, date(2026, 3, 28), date(2026, 3, 30))
    assert [(o.local_date, o.local_time) for o in got] == [
        (date(2026, 3, 28), "01:30"),
        (date(2026, 3, 29), "02:30"),  # 01:30 does not exist that night
        (date(2026, 3, 30), "01:30"),
    ]
    assert got[1].scheduled_at == utc(2026, 3, 29, 1, 30)


def test_dublin_times_that_collapse_into_one_instant_make_one_dose():
    got = expand(daily("01:30", "02:30"), DUBLIN, date(2026, 3, 29), date(2026, 3, 29))
    assert [(o.local_time, o.scheduled_at) for o in got] == [("02:30", utc(2026, 3, 29, 1, 30))]


def test_dublin_ambiguous_time_fires_once_at_its_first_occurrence():
    got = expand(daily("01:30"), DUBLIN, date(2026, 10, 24), date(2026, 10, 26))
    assert [o.scheduled_at for o in got] == [
        utc(2026, 10, 24, 0, 30),
        utc(2026, 10, 25, 0, 30),  # 01:30 IST, not the second 01:30 (GMT) an hour later
        utc(2026, 10, 26, 1, 30),
    ]
    assert [o.local_time for o in got] == ["01:30"] * 3


def test_dublin_weekly_across_both_changes():
    rule = Rule("weekly", ("01:30", "09:00"), day_mask="0000001")  # Sundays only
    got = expand(rule, DUBLIN, date(2026, 3, 1), date(2026, 11, 30))
    sundays = [d for d in (date(2026, 3, 1) + timedelta(days=i) for i in range(275)) if d.weekday() == 6]
    assert sorted({o.local_date for o in got}) == sundays
    assert len(got) == 2 * len(sundays)
    assert len({o.scheduled_at for o in got}) == len(got)
    by_day = {(o.local_date, o.local_time): o.scheduled_at for o in got}
    assert by_day[(date(2026, 3, 29), "02:30")] == utc(2026, 3, 29, 1, 30)
    assert by_day[(date(2026, 3, 29), "09:00")] == utc(2026, 3, 29, 8)
    assert by_day[(date(2026, 10, 25), "01:30")] == utc(2026, 10, 25, 0, 30)
    assert by_day[(date(2026, 10, 25), "09:00")] == utc(2026, 10, 25, 9)


# --- America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST -------------


def test_new_york_daily_nonexistent_and_ambiguous():
    spring = expand(daily("02:30", "20:00"), NEW_YORK, date(2026, 3, 7), date(2026, 3, 9))
    assert [(o.local_date.day, o.local_time, o.scheduled_at) for o in spring] == [
        (7, "02:30", utc(2026, 3, 7, 7, 30)),
        (7, "20:00", utc(2026, 3, 8, 1)),
        (8, "03:30", utc(2026, 3, 8, 7, 30)),
        (8, "20:00", utc(2026, 3, 9, 0)),
        (9, "02:30", utc(2026, 3, 9, 6, 30)),
        (9, "20:00", utc(2026, 3, 10, 0)),
    ]
    fall = expand(daily("01:30"), NEW_YORK, date(2026, 10, 31), date(2026, 11, 2))
    assert [o.scheduled_at for o in fall] == [
        utc(2026, 10, 31, 5, 30),
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT, once
        utc(2026, 11, 2, 6, 30),
    ]


def test_new_york_weekly_across_changes():
    rule = Rule("weekly", ("01:30", "02:30"), day_mask="0000001")
    got = expand(rule, NEW_YORK, date(2026, 3, 1), date(2026, 11, 8))
    on = {o.local_date: [] for o in got}
    for o in got:
        on[o.local_date].append(o.local_time)
    assert on[date(2026, 3, 8)] == ["01:30", "03:30"]
    assert on[date(2026, 11, 1)] == ["01:30", "02:30"]
    assert all(len(v) == 2 for v in on.values())
    assert len({o.scheduled_at for o in got}) == len(got)


@pytest.mark.parametrize(("zone", "expected"), [(DUBLIN, 365 * 4 - 1), (NEW_YORK, 365 * 4)])
def test_a_whole_year_of_four_daily_times_none_doubled_or_lost(zone, expected):
    got = expand(daily("00:30", "01:30", "02:30", "23:30"), zone, date(2026, 1, 1), date(2026, 12, 31))
    # Dublin's gap is 01:00-02:00: on that night 01:30 moves to 02:30, the same instant as 02:30, so one
    # dose; New York's gap is 02:00-03:00: 02:30 moves to 03:30, which is free.
    assert len(got) == expected
    assert len({o.scheduled_at for o in got}) == len(got)
    assert [o.scheduled_at for o in got] == sorted(o.scheduled_at for o in got)


# --- repeat types and active dates ---------------------------------------------------------------------


def test_weekly_mask_index_zero_is_monday():
    got = expand(Rule("weekly", ("08:00",), day_mask="1000000"), ZoneInfo("UTC"), date(2026, 12, 1), date(2026, 12, 31))
    assert {o.local_date.weekday() for o in got} == {0}
    assert [o.local_date.day for o in got] == [7, 14, 21, 28]


def test_once_custom_interval_and_active_dates():
    z = ZoneInfo("UTC")
    once = Rule("once", ("09:00",), custom_start=date(2026, 12, 7), custom_end=date(2026, 12, 7))
    assert [o.local_date for o in expand(once, z, date(2026, 12, 1), date(2026, 12, 31))] == [date(2026, 12, 7)]
    custom = Rule("custom", ("09:00",), custom_start=date(2026, 12, 7), custom_end=date(2026, 12, 21))
    assert len(expand(custom, z, date(2026, 12, 1), date(2026, 12, 31))) == 15
    interval = Rule("interval", ("09:00",), interval_days=3, custom_start=date(2026, 12, 2))
    assert [o.local_date.day for o in expand(interval, z, date(2026, 12, 1), date(2026, 12, 10))] == [2, 5, 8]
    bounded = daily("09:00", active_start=date(2026, 12, 10), active_end=date(2026, 12, 12))
    assert [o.local_date.day for o in expand(bounded, z, date(2026, 12, 1), date(2026, 12, 31))] == [10, 11, 12]
    assert bounded.last_day() == date(2026, 12, 12)
    assert expand(Rule("once", ("09:00",)), z, date(2026, 12, 1), date(2026, 12, 31)) == []


def test_zone_helpers():
    assert zone_for("Not/AZone") == ZoneInfo("UTC")
    assert zone_for(None) == ZoneInfo("UTC")
    assert local_today(utc(2026, 12, 4, 23, 30), ZoneInfo("Europe/Berlin")) == date(2026, 12, 5)
    assert to_utc(date(2026, 7, 1), "08:00", DUBLIN) == utc(2026, 7, 1, 7)
