"""What meds announces (medication.upserted / medication.deleted, staged in its outbox) and what it
does with auth's user.updated and user.deleted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pillpal_meds.handlers import event_handlers, forget_user, update_timezone
from pillpal_meds.models import MedsUser
from pillpal_shared.envelope import new_event, parse_envelope

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_every_change_stages_one_valid_event_with_a_rising_revision(client, alice, med_body, staged):
    med = client.post("/api/medications", json=med_body(), headers=alice.headers).get_json()
    url = f"/api/medications/{med['med_id']}"
    client.put(url, json=med_body(repeat_type="weekly", day_mask="1010100", times=["07:15"]), headers=alice.headers)
    client.patch(url, json={"schedule": {"lead_minutes": 20}}, headers=alice.headers)
    client.delete(url, headers=alice.headers)

    events = [parse_envelope(json.dumps(e).encode()) for e in staged(med["med_id"])]  # validates each
    assert [e.type for e in events] == ["medication.upserted"] * 3 + ["medication.deleted"]
    assert [e.data["revision"] for e in events] == [1, 2, 3, 4]
    assert all(e.subject == {"user_id": alice.id, "med_id": med["med_id"]} for e in events)
    assert all(e.source == "meds" for e in events)
    assert events[0].topic == f"pillpal/events/medication/{med['med_id']}/upserted"
    assert events[0].data == {
        "name": "Lisinopril",
        "notes": "with water",
        "active_start_date": "2026-12-04",
        "active_end_date": None,
        "schedule": {**med["schedule"], "interval_days": None},  # the whole schedule, as the API shows it
        "revision": 1,
    }
    assert events[1].data["schedule"]["day_mask"] == "1010100"
    assert events[1].data["schedule"]["times"] == ["07:15"]
    assert events[2].data["schedule"]["lead_minutes"] == 20
    loaded = events[2].load_data()  # adherence's view: dates as dates, needs nothing else from meds
    assert loaded["active_start_date"].isoformat() == "2026-12-04"


def test_a_refused_change_stages_nothing(client, alice, med_body, staged):
    med = client.post("/api/medications", json=med_body(), headers=alice.headers).get_json()
    client.put(f"/api/medications/{med['med_id']}", json=med_body(times=[]), headers=alice.headers)
    assert len(staged(med["med_id"])) == 1


def test_user_deleted_removes_their_medications_once(app, client, db, alice, bob, med_body, staged):
    meds = app.extensions["pillpal.meds"]
    ids = [
        client.post("/api/medications", json=med_body(n), headers=alice.headers).get_json()["med_id"]
        for n in ("A1", "A2")
    ]
    kept = client.post("/api/medications", json=med_body("B1"), headers=bob.headers).get_json()

    with db.transaction() as session:
        assert forget_user(meds, session, alice.id, T0) == 2
    with db.transaction() as session:
        assert forget_user(meds, session, alice.id, T0) == 0  # idempotent

    assert client.get("/api/medications", headers=alice.headers).get_json() == []
    for med_id in ids:
        assert [e["type"] for e in staged(med_id)] == ["medication.upserted", "medication.deleted"]
        assert staged(med_id)[-1]["data"]["revision"] == 2
    assert client.get("/api/medications", headers=bob.headers).get_json() == [kept]
    # A token that outlives its account cannot create medications again.
    again = client.post("/api/medications", json=med_body(), headers=alice.headers)
    assert again.status_code == 401
    assert client.get("/api/medications", headers=alice.headers).get_json() == []


def test_user_updated_keeps_the_newest_time_zone(db, alice):
    with db.transaction() as session:
        update_timezone(session, alice.id, "Europe/Dublin", datetime(2026, 3, 1, tzinfo=UTC))
    with db.transaction() as session:
        update_timezone(session, alice.id, "Asia/Tokyo", datetime(2026, 2, 1, tzinfo=UTC))  # older, late
    with db.transaction() as session:
        assert session.get(MedsUser, alice.id).timezone == "Europe/Dublin"
        update_timezone(session, alice.id, "America/Chicago", datetime(2026, 4, 1, tzinfo=UTC))
    with db.transaction() as session:
        assert session.get(MedsUser, alice.id).timezone == "America/Chicago"


def test_handlers_read_the_envelopes_auth_sends(app, db, alice):
    handlers = event_handlers(app.extensions["pillpal.meds"])
    assert set(handlers) == {"user.deleted", "user.updated"}
    updated = new_event(
        "user.updated",
        {"user_id": alice.id},
        {"email": "a@example.com", "full_name": None, "timezone": "Europe/Lisbon"},
        source="auth",
    )
    with db.transaction() as session:
        handlers["user.updated"](session, updated)
    with db.transaction() as session:
        handlers["user.deleted"](session, new_event("user.deleted", {"user_id": alice.id}, {}, source="auth"))
    with db.transaction() as session:
        user = session.get(MedsUser, alice.id)
        assert user.timezone == "Europe/Lisbon" and user.deleted_at is not None
