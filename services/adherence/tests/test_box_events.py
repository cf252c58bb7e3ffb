"""Box events mapped to doses through the consumer's code path: the seed's rule, exactly once, unmatched kept."""

from datetime import UTC, datetime

from pillpal_shared.envelope import new_event


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_pill_taken_closes_the_matching_dose_and_announces_it(world, clock):
    user, device = world.user(), world.device()
    world.med(user, times=("08:00", "09:00"))
    event = world.box(device, user, utc(2030, 1, 7, 8, 40))  # late for 08:00, early for 09:00
    doses = {d.local_time: d for d in world.doses(user) if d.local_date.day == 7}
    assert doses["08:00"].status == "taken" and doses["08:00"].taken_at == utc(2030, 1, 7, 8, 40)
    assert doses["09:00"].status == "scheduled"
    [recorded] = world.dose_events(user)
    assert (recorded.event_id, recorded.instance_id, recorded.event_type, recorded.source) == (
        event.id,
        doses["08:00"].instance_id,
        "ack_taken",
        "device",
    )
    assert [e["type"] for e in world.outbox(user) if e["type"].startswith("dose.")] == ["dose.taken", "dose.closed"]
    world.box(device, user, utc(2030, 1, 7, 8, 45))  # the next lid opening takes 09:00, early
    assert {d.local_time: d.status for d in world.doses(user) if d.local_date.day == 7} == {
        "08:00": "taken",
        "09:00": "taken",
    }


def test_alert_started_is_recorded_without_closing(world):
    user, device = world.user(), world.device()
    world.med(user)
    world.box(device, user, utc(2030, 1, 7, 7, 55), kind="device.alert_started")
    [recorded] = world.dose_events(user)
    assert recorded.event_type == "alert_started" and recorded.instance_id == world.doses(user)[0].instance_id
    assert world.doses(user)[0].status == "scheduled"


def test_same_event_three_times_records_one_ack(world):
    user, device = world.user(), world.device()
    world.med(user, times=("08:00", "08:30"))
    at = utc(2030, 1, 7, 8, 1)
    first = world.box(device, user, at)
    world.box(device, user, at, event_id=first.id)
    world.box(device, user, at, event_id=first.id)
    assert [e.event_type for e in world.dose_events(user)] == ["ack_taken"]
    assert [d.status for d in world.doses(user)][:2] == ["taken", "scheduled"]


def test_unmatched_events_are_kept_with_their_reason(world):
    user, device, stray = world.user(), world.device(), world.device()
    world.med(user)
    world.box(device, user, utc(2030, 1, 7, 12))  # nowhere near a dose
    world.box(stray, None, utc(2030, 1, 7, 8))  # a box nobody owns
    [far] = world.dose_events(user)
    assert far.instance_id is None and "no open dose" in far.meta
    [orphan] = world.dose_events(device_id=stray)
    assert orphan.instance_id is None and orphan.user_id is None and "no owner" in orphan.meta
    assert {d.status for d in world.doses(user)} == {"scheduled"}


def test_one_batch_closes_one_dose_per_event_and_uses_the_pairing_when_unnamed(world, clock):
    user, device = world.user(), world.device()
    world.send(new_event("pairing.created", {"device_id": device, "user_id": user}, {"at": clock()}, source="gw"))
    world.med(user, times=("08:00",), name="A")
    world.med(user, times=("08:00",), name="B")
    data = {"raw_event": "lid_opened", "form": "B", "received_at": utc(2030, 1, 7, 8), "clock_skew": False}
    events = [
        new_event(
            "device.pill_taken",
            {"device_id": device, "user_id": None},
            data,
            source="gw",
            occurred_at=utc(2030, 1, 7, 8, m),
        )
        for m in (1, 2, 3)
    ]
    world.send(*events)
    today = [d for d in world.doses(user) if d.local_date.day == 7]
    assert [d.status for d in today] == ["taken", "taken"]
    recorded = world.dose_events(user)
    assert [e.instance_id is not None for e in recorded] == [True, True, False]  # the third found nothing open
    assert len({e.instance_id for e in recorded[:2]}) == 2
