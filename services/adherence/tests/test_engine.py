"""The reminder engine with an injected clock: due, missed, catch-up after a restart, snooze, replicas."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import literal, select

from pillpal_adherence.engine import ReminderEngine
from pillpal_adherence.horizon import HorizonExtender
from pillpal_adherence.models import DoseInstance
from pillpal_adherence.service import Doses


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def engine(db, settings, clock):
    return ReminderEngine(db, settings, clock)


def drain(engine):
    while engine.run_once() >= engine.batch:
        pass


def types(world, user):
    return [e["type"] for e in world.outbox(user) if e["type"].startswith("dose.")]


def test_due_at_lead_time_then_missed_after_grace(world, engine, clock):
    user = world.user()
    world.med(user, times=("08:00",), lead=5)
    clock.now = utc(2030, 1, 7, 7, 54, 59)
    drain(engine)
    assert types(world, user) == []
    clock.now = utc(2030, 1, 7, 7, 55)
    drain(engine)
    [due] = world.outbox(user, "dose.due")
    assert due["data"] == {
        "med_name": "Lisinopril",
        "scheduled_at": "2030-01-07T08:00:00Z",
        "due_at": "2030-01-07T07:55:00Z",
    }
    assert world.doses(user)[0].status == "alerting"
    clock.now = utc(2030, 1, 7, 8, 59)
    drain(engine)
    assert types(world, user) == ["dose.due"]
    clock.now = utc(2030, 1, 7, 9, 0)
    drain(engine)
    assert types(world, user) == ["dose.due", "dose.missed", "dose.closed"]
    assert world.doses(user)[0].status == "missed"
    assert [(e.event_type, e.source) for e in world.dose_events(user)] == [("miss", "system")]


def test_restart_catch_up_misses_without_a_stale_alarm_and_rings_what_is_still_in_grace(world, engine, clock):
    user = world.user()
    world.med(user, times=("08:00", "09:30"))
    clock.now = utc(2030, 1, 7, 9, 45)  # the engine was down from before 07:55
    drain(engine)
    late = {(e["type"], e["data"]["scheduled_at"]) for e in world.outbox(user)}
    assert late == {
        ("dose.missed", "2030-01-07T08:00:00Z"),
        ("dose.closed", "2030-01-07T08:00:00Z"),
        ("dose.due", "2030-01-07T09:30:00Z"),
    }
    assert [d.status for d in world.doses(user)][:2] == ["missed", "alerting"]


def test_taken_dose_never_rings_and_snooze_realerts(world, engine, settings, clock):
    user, device = world.user(), world.device()
    world.med(user, times=("08:00", "12:00"))
    world.box(device, user, utc(2030, 1, 7, 7, 30))  # taken early
    clock.now = utc(2030, 1, 7, 11, 55)
    drain(engine)
    noon = world.doses(user)[1]
    assert types(world, user) == ["dose.taken", "dose.closed", "dose.due"]
    with world.db.transaction() as session:
        Doses(settings, clock).snooze(session, user, noon.instance_id, 10)
    clock.now = utc(2030, 1, 7, 12, 4)
    drain(engine)
    assert types(world, user)[-1] == "dose.snoozed"
    clock.now = utc(2030, 1, 7, 12, 5)
    drain(engine)
    realert = world.outbox(user, "dose.due")[-1]
    assert realert["data"]["due_at"] == "2030-01-07T12:05:00Z" and len(world.outbox(user, "dose.due")) == 2
    clock.now = utc(2030, 1, 7, 13, 4)  # the deadline follows the snooze: 12:05 + 60 min
    drain(engine)
    assert world.doses(user)[1].status == "alerting"
    clock.now = utc(2030, 1, 7, 13, 5)
    drain(engine)
    assert world.doses(user)[1].status == "missed"


def test_two_engines_on_one_database_fire_every_due_dose_once(world, db, settings, clock):
    users = [world.user() for _ in range(300)]
    for user in users:
        world.med(user, times=("08:00", "08:01", "08:02"))
    clock.now = utc(2030, 1, 7, 8, 30)
    engines = [ReminderEngine(db, settings, clock) for _ in range(2)]
    for e in engines:
        e.batch = 50  # many small passes, so the two really interleave
    barrier = threading.Barrier(2)

    def run(engine):
        barrier.wait()
        while engine.run_once():
            pass

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wanted = set(users)
    due = [e for e in world.outbox_all("dose.due") if e["subject"]["user_id"] in wanted]
    assert len(due) == 900
    assert len({e["subject"]["instance_id"] for e in due}) == 900


CHANGES = {  # (zone, season): (the Sunday of the change, the wall time it moves or doubles, where it fires)
    ("Europe/Dublin", "spring"): (date(2030, 3, 31), "01:30", "02:30"),
    ("Europe/Dublin", "autumn"): (date(2030, 10, 27), "01:30", "01:30"),
    ("America/New_York", "spring"): (date(2030, 3, 10), "02:30", "03:30"),
    ("America/New_York", "autumn"): (date(2030, 11, 3), "01:30", "01:30"),
}


@pytest.mark.parametrize("zone", ["Europe/Dublin", "America/New_York"])
@pytest.mark.parametrize("repeat", ["daily", "weekly"])
@pytest.mark.parametrize("season", ["spring", "autumn"])
def test_reminders_across_daylight_saving_changes(world, db, settings, clock, zone, repeat, season):
    """The clock walks nine days across a change in one-hour steps, the horizon extender and the engine
    running at each: every dose rings once, at its local time; none is doubled or lost."""
    change, wall, fires = CHANGES[(zone, season)]
    start = datetime.combine(change - timedelta(days=4), time(12), tzinfo=UTC)
    clock.now = start
    user = world.user(zone)
    mask = "1111111" if repeat == "daily" else "0000011"  # weekly: weekends, so the change day is one
    world.med(user, times=(wall, "08:00"), repeat=repeat, day_mask=mask, lead=0)
    engine, extender = ReminderEngine(db, settings, clock), HorizonExtender(db, settings, clock)
    while clock.now < start + timedelta(days=9):
        extender.run_once()
        drain(engine)
        clock.advance(hours=1)
    rung = [datetime.fromisoformat(e["data"]["scheduled_at"]) for e in world.outbox(user, "dose.due")]
    assert len(rung) == len(set(rung))  # none doubled
    local = sorted(r.astimezone(ZoneInfo(zone)) for r in rung)
    by_day: dict[date, list[str]] = {}
    for t in local:
        by_day.setdefault(t.date(), []).append(t.strftime("%H:%M"))
    inner = [
        change + timedelta(days=i)
        for i in range(-3, 4)
        if repeat == "daily" or (change + timedelta(days=i)).weekday() >= 5
    ]
    for d in inner:  # whole local days inside the walk: both doses, at their local times
        assert by_day.get(d) == sorted([fires if d == change else wall, "08:00"]), d
    assert set(by_day) >= set(inner)


def test_a_staged_reminder_is_sent_at_its_time_and_never_after_the_dose_closed(world, engine, clock):
    user, other, device = world.user(), world.user(), world.device()
    world.med(user, times=("08:00",))
    world.med(other, times=("08:00",))
    clock.now = utc(2030, 1, 7, 7, 54, 52)  # within the lookahead: both claimed and staged, nothing sent
    drain(engine)
    assert [d.status for d in world.doses(user)][:1] == ["alerting"] and types(world, user) == []
    world.box(device, user, utc(2030, 1, 7, 7, 54, 58))  # taken before its reminder went out
    clock.now = utc(2030, 1, 7, 7, 55)
    drain(engine)
    assert types(world, user) == ["dose.taken", "dose.closed"]  # no dose.due, before or after
    assert types(world, other) == ["dose.due"]
    assert world.outbox(other, "dose.due")[0]["data"]["due_at"] == "2030-01-07T07:55:00Z"


def test_a_staged_reminder_older_than_the_grace_period_is_dropped_not_sent(world, engine, clock):
    user = world.user()
    world.med(user, times=("08:00",))
    clock.now = utc(2030, 1, 7, 7, 54, 55)
    drain(engine)  # staged, then the engine is down until 09:30
    clock.now = utc(2030, 1, 7, 9, 30)
    drain(engine)
    assert types(world, user) == ["dose.missed", "dose.closed"]


def test_a_claim_on_rows_someone_else_claimed_announces_nothing(world, db, settings, clock):
    """The conditional update is the claim: rows read before another engine claimed them (as without row
    locks) are not announced a second time."""
    user = world.user()
    world.med(user, times=("08:00", "08:01"))
    clock.now = utc(2030, 1, 7, 8, 30)
    late, early = ReminderEngine(db, settings, clock), ReminderEngine(db, settings, clock)
    with db.transaction() as session:
        rows = session.execute(
            select(DoseInstance.instance_id, DoseInstance.user_id, DoseInstance.med_id, DoseInstance.status)
            .add_columns(DoseInstance.scheduled_at, DoseInstance.due_at, DoseInstance.snoozed_until)
            .add_columns(DoseInstance.next_at, literal("x").label("name"))
            .where(DoseInstance.user_id == user, DoseInstance.scheduled_at < utc(2030, 1, 7, 9))
        ).all()
    drain(early)
    assert len(world.outbox(user, "dose.due")) == 2
    with db.transaction() as session:
        late._claim_and_announce(session, rows, clock(), "late-token")
    assert len(world.outbox(user, "dose.due")) == 2
