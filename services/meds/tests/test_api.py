"""Calls 5-9 of CONTRACTS.md replayed as the Android app sends them, plus PATCH and the seed's
`?user_id=` form, against the real MariaDB."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pillpal_shared.routes import resolve

HHMM = re.compile(r"^\d\d:\d\d$")
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


def assert_medication_response(med: dict) -> None:
    """Every field the app parses, with the JSON type Gson expects."""
    assert isinstance(med["med_id"], int) and not isinstance(med["med_id"], bool)
    assert isinstance(med["name"], str)
    assert med["notes"] is None or isinstance(med["notes"], str)
    for key in ("active_start_date", "active_end_date"):
        assert med[key] is None or ISO_DATE.match(med[key])
    schedule = med["schedule"]
    assert schedule["repeat_type"] in ("once", "daily", "weekly", "custom")
    assert schedule["day_mask"] is None or re.match(r"^[01]{7}$", schedule["day_mask"])
    assert schedule["times"] and all(HHMM.match(t) for t in schedule["times"])
    for key in ("custom_start", "custom_end"):
        assert schedule[key] is None or ISO_DATE.match(schedule[key])
    assert isinstance(schedule["lead_minutes"], int) and not isinstance(schedule["lead_minutes"], bool)


def test_app_replay_of_calls_5_to_9(client, alice, med_body):
    # 7. POST /api/medications
    created = client.post("/api/medications", json=med_body(), headers=alice.headers)
    assert 200 <= created.status_code < 300
    weekly = med_body("Metformin", repeat_type="weekly", day_mask="0110010", times=["15:30"])
    assert 200 <= client.post("/api/medications", json=weekly, headers=alice.headers).status_code < 300

    # 5. GET /api/medications
    listed = client.get("/api/medications", headers=alice.headers)
    assert listed.status_code == 200
    meds = listed.get_json()
    assert [m["name"] for m in meds] == ["Lisinopril", "Metformin"]
    for med in meds:
        assert_medication_response(med)
    lisinopril, metformin = meds
    assert lisinopril["schedule"] == {
        "repeat_type": "daily",
        "day_mask": "1111111",
        "times": ["08:00", "20:00"],
        "custom_start": None,
        "custom_end": None,
        "lead_minutes": 5,
    }
    assert lisinopril["notes"] == "with water"
    assert lisinopril["active_start_date"] == "2026-12-04"  # today, in UTC for a user with no zone yet
    assert lisinopril["active_end_date"] is None
    assert metformin["schedule"]["day_mask"] == "0110010"
    assert metformin["schedule"]["times"] == ["15:30"]

    # 6. GET /api/medications/{id}
    one = client.get(f"/api/medications/{lisinopril['med_id']}", headers=alice.headers)
    assert one.status_code == 200
    assert one.get_json() == lisinopril

    # 8. PUT /api/medications/{id}, the same body shape as 7
    custom = med_body(repeat_type="custom", times=["09:05"], custom_start="2026-12-07", custom_end="2026-12-21")
    put = client.put(f"/api/medications/{lisinopril['med_id']}", json=custom, headers=alice.headers)
    assert 200 <= put.status_code < 300
    after = client.get(f"/api/medications/{lisinopril['med_id']}", headers=alice.headers).get_json()
    assert_medication_response(after)
    assert after["schedule"]["repeat_type"] == "custom"
    assert after["schedule"]["times"] == ["09:05"]
    assert (after["schedule"]["custom_start"], after["schedule"]["custom_end"]) == ("2026-12-07", "2026-12-21")
    assert (after["active_start_date"], after["active_end_date"]) == ("2026-12-07", "2026-12-21")

    # 9. DELETE /api/medications/{id}
    deleted = client.delete(f"/api/medications/{lisinopril['med_id']}", headers=alice.headers)
    assert 200 <= deleted.status_code < 300
    assert client.get(f"/api/medications/{lisinopril['med_id']}", headers=alice.headers).status_code == 404
    assert [m["med_id"] for m in client.get("/api/medications", headers=alice.headers).get_json()] == [
        metformin["med_id"]
    ]


def test_once_takes_its_day_from_custom_start(client, alice, med_body):
    body = med_body(repeat_type="once", times=["07:00"], custom_start="2026-12-24", custom_end="2026-12-24")
    med = client.post("/api/medications", json=body, headers=alice.headers).get_json()
    assert (med["active_start_date"], med["active_end_date"]) == ("2026-12-24", "2026-12-24")
    assert med["schedule"]["custom_start"] == med["schedule"]["custom_end"] == "2026-12-24"


def test_times_come_back_sorted_and_zero_padded(client, alice, med_body):
    med = client.post(
        "/api/medications", json=med_body(times=["21:45", "00:05", "09:00"]), headers=alice.headers
    ).get_json()
    assert med["schedule"]["times"] == ["00:05", "09:00", "21:45"]


def test_start_date_is_today_in_the_users_time_zone(app, client, alice, med_body, db, clock):
    from pillpal_meds.handlers import update_timezone

    with db.transaction() as session:
        update_timezone(session, alice.id, "Pacific/Auckland", datetime(2026, 1, 1, tzinfo=UTC))
    clock.now = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)  # already 5 December in Auckland
    med = client.post("/api/medications", json=med_body(), headers=alice.headers).get_json()
    assert med["active_start_date"] == "2026-12-05"


def test_put_keeps_the_start_date_and_lead_minutes_the_app_does_not_send(client, alice, med_body, clock):
    body = med_body()
    body["schedule"]["lead_minutes"] = 15
    med = client.post("/api/medications", json=body, headers=alice.headers).get_json()
    assert med["schedule"]["lead_minutes"] == 15
    clock.now = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
    put = client.put(f"/api/medications/{med['med_id']}", json=med_body(times=["10:00"]), headers=alice.headers)
    assert put.get_json()["active_start_date"] == "2026-12-04"
    assert put.get_json()["schedule"]["lead_minutes"] == 15


def test_patch_changes_only_what_it_names(client, alice, med_body):
    med = client.post("/api/medications", json=med_body(), headers=alice.headers).get_json()
    url = f"/api/medications/{med['med_id']}"
    patched = client.patch(url, json={"notes": None, "schedule": {"times": ["06:30"]}}, headers=alice.headers)
    assert patched.status_code == 200
    body = patched.get_json()
    assert body["name"] == "Lisinopril" and body["notes"] is None
    assert body["schedule"]["times"] == ["06:30"] and body["schedule"]["repeat_type"] == "daily"
    weekly = client.patch(
        url,
        json={"schedule": {"repeat_type": "weekly", "day_mask": "1000001"}, "lead_minutes_x": 1},
        headers=alice.headers,
    )
    assert weekly.get_json()["schedule"]["day_mask"] == "1000001"
    assert client.patch(url, json={"schedule": {"lead_minutes": 30}}, headers=alice.headers).status_code == 200
    assert client.get(url, headers=alice.headers).get_json()["schedule"] == {
        "repeat_type": "weekly",
        "day_mask": "1000001",
        "times": ["06:30"],
        "custom_start": None,
        "custom_end": None,
        "lead_minutes": 30,
    }


def test_seed_user_id_query_is_answered_from_the_token(client, alice, bob, med_body):
    client.post("/api/medications", json=med_body("Alice's"), headers=alice.headers)
    client.post("/api/medications", json=med_body("Bob's"), headers=bob.headers)
    own = client.get(f"/api/medications?user_id={alice.id}", headers=alice.headers).get_json()
    other = client.get(f"/api/medications?user_id={bob.id}", headers=alice.headers).get_json()
    assert [m["name"] for m in own] == [m["name"] for m in other] == ["Alice's"]


def test_a_new_user_has_an_empty_list(client, alice):
    response = client.get("/api/medications", headers=alice.headers)
    assert response.status_code == 200 and response.get_json() == []


def test_every_call_needs_a_token(client):
    assert client.get("/api/medications").status_code == 401
    assert client.get("/api/medications/1").status_code == 401
    assert client.post("/api/medications", json={}).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.delete("/api/medications/1", headers=bad).status_code == 401


def test_history_is_not_caught_by_the_medication_route(client, alice):
    assert resolve("/api/medications/history") == "adherence"
    assert resolve("/api/medications/12") == "meds"
    assert resolve("/api/medications") == "meds"
    # Here meds has no such route at all: the <int:med_id> converter does not match "history".
    adapter = client.application.url_map.bind("localhost")
    assert adapter.test("/api/medications/history", method="GET") is False
    assert client.get("/api/medications/history?from=Bearer%20x", headers=alice.headers).status_code == 404
