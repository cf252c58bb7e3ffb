"""Which dose a box's event closes: late and early doses are not confused with the next one."""

from datetime import UTC, datetime, timedelta

from pillpal_adherence.matching import Candidate, Window, choose

WINDOW = Window(early=timedelta(minutes=60), late=timedelta(minutes=60))


def at(hh, mm=0):
    return datetime(2026, 12, 4, hh, mm, tzinfo=UTC)


def dose(instance_id, hh, mm=0, lead=5, snoozed_until=None):
    return Candidate(instance_id, 1, 10, at(hh, mm), at(hh, mm) - timedelta(minutes=lead), snoozed_until)


EIGHT, NINE = dose(1, 8), dose(2, 9)


def test_late_dose_is_closed_not_the_next_one():
    assert choose([EIGHT, NINE], at(8, 40), WINDOW) == EIGHT


def test_early_take_of_the_next_dose_when_the_previous_is_closed():
    assert choose([NINE], at(8, 40), WINDOW) == NINE


def test_once_the_next_dose_is_due_the_nearest_due_dose_wins():
    assert choose([EIGHT, NINE], at(8, 56), WINDOW) == NINE
    assert choose([EIGHT, NINE], at(9, 0), WINDOW) == NINE


def test_outside_every_window_matches_nothing():
    assert choose([EIGHT], at(6, 59), WINDOW) is None
    assert choose([EIGHT], at(9, 1), WINDOW) is None
    assert choose([], at(8), WINDOW) is None


def test_snooze_extends_the_window():
    snoozed = dose(3, 8, snoozed_until=at(8, 30))
    assert choose([snoozed], at(9, 20), WINDOW) == snoozed
    assert choose([snoozed], at(9, 31), WINDOW) is None


def test_same_time_doses_are_taken_one_per_event_in_id_order():
    a, b = dose(5, 8), dose(4, 8)
    assert choose([a, b], at(8, 1), WINDOW) == b


def test_search_range_covers_snoozed_and_early_doses():
    lo, hi = WINDOW.search_range(at(8), at(9), timedelta(hours=12))
    assert lo == at(8) - timedelta(hours=13) and hi == at(10)
