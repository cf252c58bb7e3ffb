"""Projections: doses from medication.upserted in the owner's zone, revisions, schedule changes, deletes."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from pillpal_adherence.models import AdherenceUser, DeviceOwner, DoseInstance, Medication
from pillpal_shared.envelope import new_event


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_upsert_materialises_the_horizon_in_the_owner_zone(world, clock):
    user = world.user("America/New_York")  # clock: Mon 2030-01-07 06:00 UTC = 01:00 in New York
    world.med(user, times=("08:00", "20:00"))
    doses = world.doses(user)
    assert [(d.local_date, d.local_time) for d in doses][:3] == [
        (date(2030, 1, 7), "08:00"),
        (date(2030, 1, 7), "20:00"),
        (date(2030, 1, 8), "08:00"),
    ]
    assert doses[0].scheduled_at == utc(2030, 1, 7, 13) and doses[0].due_at == utc(2030, 1, 7, 12, 55)
    assert {d.local_date for d in doses} == {date(2030, 1, d) for d in range(7, 11)}  # today + 3 days
    assert {d.status for d in doses} == {"scheduled"}


def test_default_zone_is_utc_and_a_zone_change_replans_future_doses(world, clock):
    user = world.user()
    world.med(user, times=("09:00",))
    assert world.doses(user)[0].scheduled_at == utc(2030, 1, 7, 9)
    world.send(
        new_event(
            "user.updated",
            {"user_id": user},
            {"email": "x@example.org", "full_name": None, "timezone": "Europe/Berlin"},
            source="auth",
            occurred_at=clock.advance(minutes=1),
        )
    )
    doses = world.doses(user)
    assert doses[0].scheduled_at == utc(2030, 1, 7, 8) and doses[0].local_time == "09:00"
    assert len(doses) == 4


def test_older_revision_is_ignored_and_a_change_replaces_only_untouched_future_doses(world, clock):
    user = world.user()
    med = world.med(user, times=("08:00", "20:00"), revision=2)
    clock.advance(hours=3)  # 09:00: today's 08:00 is past
    before = {d.scheduled_at: d.instance_id for d in world.doses(user)}
    with world.db.transaction() as session:  # someone took tomorrow's 08:00 early
        early = session.scalar(
            select(DoseInstance).where(DoseInstance.scheduled_at == utc(2030, 1, 8, 8), DoseInstance.med_id == med)
        )
        early.status, early.taken_at = "taken", clock()
    world.med(user, times=("09:00",), revision=1, med_id=med)  # stale: ignored
    assert {d.scheduled_at for d in world.doses(user)} == set(before)
    world.med(user, times=("08:00", "21:00"), revision=3, med_id=med, name="Renamed")
    after = {d.scheduled_at: d for d in world.doses(user)}
    assert after[utc(2030, 1, 7, 8)].instance_id == before[utc(2030, 1, 7, 8)]  # past: kept
    assert after[utc(2030, 1, 8, 8)].status == "taken"  # touched: kept
    assert after[utc(2030, 1, 9, 8)].instance_id == before[utc(2030, 1, 9, 8)]  # unchanged: same id
    assert utc(2030, 1, 7, 20) not in after and utc(2030, 1, 7, 21) in after
    with world.db.transaction() as session:
        assert session.get(Medication, med).name == "Renamed"


def test_lead_time_change_moves_due_times(world):
    user = world.user()
    med = world.med(user, lead=5)
    world.med(user, lead=15, revision=2, med_id=med)
    assert {d.scheduled_at - d.due_at for d in world.doses(user)} == {timedelta(minutes=15)}


def test_weekly_and_active_dates(world):
    user = world.user()
    world.med(user, repeat="weekly", day_mask="0100000", active_end_date="2030-01-09")  # Tuesdays, until Wed
    assert [d.local_date for d in world.doses(user)] == [date(2030, 1, 8)]


def test_medication_deleted_cancels_waiting_doses_and_is_final(world, clock):
    user = world.user()
    med = world.med(user)
    with world.db.transaction() as session:
        ringing = session.scalars(
            select(DoseInstance).where(DoseInstance.med_id == med).order_by(DoseInstance.scheduled_at)
        ).first()
        ringing.status = "alerting"
    world.send(new_event("medication.deleted", {"user_id": user, "med_id": med}, {"revision": 2}, source="meds"))
    assert {d.status for d in world.doses(user)} == {"cancelled"}
    closed = world.outbox(user, "dose.closed")
    assert [(e["subject"]["instance_id"], e["data"]["status"]) for e in closed] == [(ringing.instance_id, "cancelled")]
    world.med(user, revision=5, med_id=med)  # a late upsert does not bring it back
    assert {d.status for d in world.doses(user)} == {"cancelled"}


def test_user_deleted_removes_everything_and_late_events_are_ignored(world, clock):
    user = world.user("Europe/Dublin")
    med = world.med(user)
    device = world.device()
    world.send(new_event("pairing.created", {"device_id": device, "user_id": user}, {"at": clock()}, source="gw"))
    world.box(device, user, utc(2030, 1, 7, 8))
    world.send(new_event("user.deleted", {"user_id": user}, {}, source="auth"))
    world.med(user, revision=2, med_id=med)
    assert world.doses(user) == [] and world.dose_events(user) == []
    with world.db.transaction() as session:
        assert session.get(Medication, med) is None
        assert session.get(DeviceOwner, device) is None
        assert session.get(AdherenceUser, user).deleted_at is not None


def test_pairing_projection_follows_event_time(world, clock):
    user, other, device = world.user(), world.user(), world.device()
    at = clock()
    world.send(
        new_event("pairing.created", {"device_id": device, "user_id": other}, {"at": at.replace(hour=7)}, source="gw")
    )
    world.send(
        new_event("pairing.created", {"device_id": device, "user_id": user}, {"at": at.replace(hour=5)}, source="gw")
    )
    with world.db.transaction() as session:
        assert session.get(DeviceOwner, device).user_id == other  # the older pairing arrived late
    world.send(
        new_event("pairing.removed", {"device_id": device, "user_id": other}, {"at": at.replace(hour=8)}, source="gw")
    )
    with world.db.transaction() as session:
        assert session.get(DeviceOwner, device).user_id is None
