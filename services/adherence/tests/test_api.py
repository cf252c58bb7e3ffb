"""The app's calls 10, 11 and 12 exactly as CONTRACTS.md says, mark_taken, snooze and the summary."""

from datetime import UTC, datetime

import pytest

from pillpal_adherence.app import create_app
from pillpal_adherence.engine import ReminderEngine


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def client(settings, db, clock):
    return create_app(settings, db, clock).test_client()


@pytest.fixture
def auth(keys):
    signer = keys.signer()
    return lambda user_id: {"Authorization": f"Bearer {signer.issue(user_id)}"}


def test_calendar_day_is_the_callers_local_day_by_time(client, auth, world):
    user = world.user("Asia/Tokyo")  # clock 06:00 UTC = 15:00 in Tokyo
    world.med(user, times=("20:00", "08:00"), name="Zinc")
    world.med(user, times=("08:00",), name="Aspirin")
    got = client.get("/api/calendar/day?date=2030-01-08", headers=auth(user))
    assert got.status_code == 200
    body = got.get_json()
    assert [(d["name"], d["time"], d["status"]) for d in body] == [
        ("Aspirin", "08:00", "scheduled"),
        ("Zinc", "08:00", "scheduled"),
        ("Zinc", "20:00", "scheduled"),
    ]
    assert all(isinstance(d["instance_id"], int) for d in body)
    other = world.user()
    assert client.get("/api/calendar/day?date=2030-01-08", headers=auth(other)).get_json() == []


def test_calendar_past_the_horizon_materialises_real_doses(client, auth, world):
    user = world.user()
    world.med(user, repeat="weekly", day_mask="0010000")  # Wednesdays
    far = client.get("/api/calendar/day?date=2030-06-05", headers=auth(user)).get_json()
    assert [(d["time"], d["status"]) for d in far] == [("08:00", "scheduled")]
    again = client.get("/api/calendar/day?date=2030-06-05", headers=auth(user)).get_json()
    assert again == far
    assert client.get("/api/calendar/day?date=2030-06-06", headers=auth(user)).get_json() == []


def test_calendar_rejects_a_bad_date_and_a_missing_token(client, auth, world):
    user = world.user()
    assert client.get("/api/calendar/day?date=08/01/2030", headers=auth(user)).status_code == 400
    assert client.get("/api/calendar/day", headers=auth(user)).status_code == 400
    assert client.get("/api/calendar/day?date=9999-12-31", headers=auth(user)).status_code == 400
    assert client.get("/api/calendar/day?date=2030-01-08").status_code == 401


def test_dose_update_and_mark_taken_are_scoped_and_validated(client, auth, world):
    user, intruder = world.user(), world.user()
    world.med(user, times=("08:00", "20:00"))
    first, second = (d.instance_id for d in world.doses(user)[:2])
    assert (
        client.post(
            "/api/dose/update", json={"instance_id": first, "status": "taken"}, headers=auth(intruder)
        ).status_code
        == 404
    )
    assert client.post("/api/dose/mark_taken", json={"instance_id": first}, headers=auth(intruder)).status_code == 404
    for bad in (
        {"instance_id": first, "status": "eaten"},
        {"instance_id": "1", "status": "taken"},
        {"status": "taken"},
    ):
        response = client.post("/api/dose/update", json=bad, headers=auth(user))
        assert response.status_code == 400 and "fields" in response.get_json()
    assert (
        client.post("/api/dose/update", json={"instance_id": first, "status": "taken"}, headers=auth(user)).status_code
        == 200
    )
    assert client.post("/api/dose/mark_taken", json={"instance_id": second}, headers=auth(user)).status_code == 200
    assert (
        client.post(
            "/api/dose/update", json={"instance_id": second, "status": "missed"}, headers=auth(user)
        ).status_code
        == 200
    )
    assert [d.status for d in world.doses(user)][:2] == ["taken", "missed"]
    kinds = [e["type"] for e in world.outbox(user)]
    assert kinds == [
        "dose.taken",
        "dose.closed",
        "dose.taken",
        "dose.closed",
        "dose.missed",
    ]  # a correction closes nothing again
    assert [(e.event_type, e.source) for e in world.dose_events(user)] == [
        ("ack_taken", "app"),
        ("ack_taken", "app"),
        ("miss", "app"),
    ]


def test_snooze(client, auth, world, clock, db, settings):
    user, intruder = world.user(), world.user()
    world.med(user, times=("08:00",))
    dose = world.doses(user)[0].instance_id
    path = f"/api/dose/{dose}/snooze"
    assert client.post(path, json={"minutes": 10}, headers=auth(user)).status_code == 409  # not due yet
    clock.now = utc(2030, 1, 7, 7, 55)
    ReminderEngine(db, settings, clock).run_once()
    assert client.post(path, json={"minutes": 10}, headers=auth(intruder)).status_code == 404
    assert client.post(path, json={"minutes": 0}, headers=auth(user)).status_code == 400
    assert client.post(path, json={"minutes": "10"}, headers=auth(user)).status_code == 400
    got = client.post(path, json={"minutes": 10}, headers=auth(user))
    assert got.status_code == 200 and got.get_json()["snoozed_until"] == "2030-01-07T08:05:00Z"
    assert world.doses(user)[0].status == "snoozed"
    assert world.outbox(user, "dose.snoozed")[0]["data"]["until"] == "2030-01-07T08:05:00Z"


def test_history_newest_first_up_to_today_and_ignores_a_token_in_from(client, auth, world, clock):
    user = world.user()
    med = world.med(user, times=("08:00", "20:00"))
    first = world.doses(user)[0].instance_id
    client.post("/api/dose/update", json={"instance_id": first, "status": "taken"}, headers=auth(user))
    clock.now = utc(2030, 1, 9, 12)
    headers = auth(user)
    got = client.get(f"/api/medications/history?from={headers['Authorization']}&to=", headers=headers)
    assert got.status_code == 200
    body = got.get_json()
    assert [d["date"] for d in body] == ["2030-01-09", "2030-01-08", "2030-01-07"]  # not the future days
    assert body[-1]["medications"][0] == {"id": med, "name": "Lisinopril", "scheduledTime": "08:00", "status": "taken"}
    assert body[-1]["medications"][1]["scheduledTime"] == "20:00"
    ranged = client.get("/api/medications/history?from=2030-01-08&to=2030-01-08", headers=headers).get_json()
    assert [d["date"] for d in ranged] == ["2030-01-08"]
    assert client.get("/api/medications/history?from=2030-01-09&to=2030-01-01", headers=headers).get_json() == []


def test_adherence_summary(client, auth, world, clock, db, settings):
    user = world.user()
    med_a = world.med(user, times=("08:00",), name="A")
    world.med(user, times=("09:00",), name="B")
    doses = {(d.med_id, d.local_date.day): d.instance_id for d in world.doses(user)}
    h = auth(user)
    clock.now = utc(2030, 1, 7, 8, 10)
    client.post("/api/dose/mark_taken", json={"instance_id": doses[(med_a, 7)]}, headers=h)  # on time
    clock.now = utc(2030, 1, 8, 9, 0)
    client.post("/api/dose/mark_taken", json={"instance_id": doses[(med_a, 8)]}, headers=h)  # an hour late
    clock.now = utc(2030, 1, 9, 8, 30)
    ReminderEngine(db, settings, clock).run_once()  # B's 7th and 8th missed; A's 9th ringing
    body = client.get("/api/adherence/summary?from=2030-01-01&to=2030-01-31", headers=h).get_json()
    assert body["to"] == "2030-01-09" and body["threshold_percent"] == 80.0
    a, b = body["medications"]
    assert (a["name"], a["scheduled"], a["taken"], a["taken_on_time"], a["missed"], a["pending"]) == (
        "A",
        3,
        2,
        1,
        0,
        1,
    )
    assert a["adherence_percent"] == 100.0 and a["below_threshold"] is False and a["current_streak_days"] == 2
    assert (b["scheduled"], b["taken"], b["missed"], b["adherence_percent"], b["below_threshold"]) == (
        2,
        0,
        2,
        0.0,
        True,
    )
    assert b["current_streak_days"] == 0
    overall = body["overall"]
    assert (overall["scheduled"], overall["taken"], overall["missed"], overall["adherence_percent"]) == (5, 2, 2, 50.0)
    assert client.get("/api/adherence/summary?from=Bearer%20x", headers=h).status_code == 400
    assert client.get("/api/adherence/summary?from=2030-01-09&to=2030-01-01", headers=h).status_code == 400


def test_a_dose_taken_at_its_reminder_before_its_time_counts_in_the_summary(client, auth, world, clock):
    user = world.user()
    med = world.med(user, times=("08:00",), lead=5, name="A")
    dose = next(d for d in world.doses(user) if d.med_id == med and d.local_date.day == 7)
    h = auth(user)
    clock.now = utc(2030, 1, 7, 7, 56)  # the reminder rang at 07:55; the owner takes it at once
    assert client.post("/api/dose/mark_taken", json={"instance_id": dose.instance_id}, headers=h).status_code == 200
    overall = client.get("/api/adherence/summary?from=2030-01-07&to=2030-01-07", headers=h).get_json()["overall"]
    assert (overall["scheduled"], overall["taken"], overall["taken_on_time"], overall["pending"]) == (1, 1, 1, 0)
