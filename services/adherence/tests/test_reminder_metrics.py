"""Reminder lateness (pillpal_reminder_lateness_seconds): from a dose's ring time to its dose.due entering
the outbox, on both paths: claimed late and sent at once, or staged ahead and released on the instant."""

from datetime import UTC, datetime

import pytest

from pillpal_adherence.engine import ReminderEngine
from pillpal_shared.metrics import REMINDER_LATENESS


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def observed() -> tuple[float, float]:
    samples = {s.name: s.value for s in REMINDER_LATENESS.collect()[0].samples}
    return samples["pillpal_reminder_lateness_seconds_count"], samples["pillpal_reminder_lateness_seconds_sum"]


@pytest.fixture
def engine(db, settings, clock):
    return ReminderEngine(db, settings, clock)


def test_a_reminder_claimed_late_counts_its_lateness(world, engine, clock):
    user = world.user()
    world.med(user, times=("08:00",), lead=5)
    count, total = observed()
    clock.now = utc(2030, 1, 7, 7, 55, 3)  # the engine comes 3 s after the ring time
    engine.run_once()
    assert [e["type"] for e in world.outbox(user)] == ["dose.due"]
    assert observed() == (count + 1, pytest.approx(total + 3.0))


def test_a_staged_reminder_counts_from_its_ring_time_to_its_release(world, engine, clock, settings):
    user = world.user()
    world.med(user, times=("08:00",), lead=5)
    clock.now = utc(2030, 1, 7, 7, 55) - settings.engine_lookahead / 2  # claimed and staged, not sent
    engine.run_once()
    count, total = observed()
    assert world.outbox(user) == [] and count == observed()[0]
    clock.now = utc(2030, 1, 7, 7, 55, 0, 250_000)
    engine.run_once()
    assert [e["type"] for e in world.outbox(user)] == ["dose.due"]
    assert observed() == (count + 1, pytest.approx(total + 0.25))
