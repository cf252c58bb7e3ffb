"""Every bad AddMedicationRequest answers 400 naming its field, and creates nothing."""

from __future__ import annotations

import pytest


def fields_of(response) -> dict:
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["error"]
    return body["fields"]


SCHEDULE_CASES = [
    ("unknown repeat type", {"repeat_type": "hourly"}, "repeat_type"),
    ("repeat type not a string", {"repeat_type": 3}, "repeat_type"),
    ("interval is not offered yet", {"repeat_type": "interval"}, "repeat_type"),
    ("mask too short", {"repeat_type": "weekly", "day_mask": "011001"}, "day_mask"),
    ("mask with other characters", {"repeat_type": "weekly", "day_mask": "01100x0"}, "day_mask"),
    ("weekly mask with no day", {"repeat_type": "weekly", "day_mask": "0000000"}, "day_mask"),
    ("weekly without a mask", {"repeat_type": "weekly", "day_mask": None}, "day_mask"),
    ("no times", {"times": []}, "times"),
    ("times missing", {"times": None}, "times"),
    ("five times", {"times": ["01:00", "02:00", "03:00", "04:00", "05:00"]}, "times"),
    ("duplicate times", {"times": ["08:00", "08:00"]}, "times"),
    ("not zero-padded", {"times": ["8:00"]}, "times"),
    ("with seconds", {"times": ["08:00:00"]}, "times"),
    ("hour 24", {"times": ["24:00"]}, "times"),
    ("minute 60", {"times": ["08:60"]}, "times"),
    ("time not a string", {"times": [800]}, "times"),
    (
        "custom start after end",
        {"repeat_type": "custom", "custom_start": "2026-12-21", "custom_end": "2026-12-07"},
        "custom_end",
    ),
    ("custom without dates", {"repeat_type": "custom"}, "custom_start"),
    ("custom without end", {"repeat_type": "custom", "custom_start": "2026-12-07"}, "custom_end"),
    ("once without its day", {"repeat_type": "once"}, "custom_start"),
    (
        "once over two days",
        {"repeat_type": "once", "custom_start": "2026-12-07", "custom_end": "2026-12-08"},
        "custom_end",
    ),
    (
        "date not ISO",
        {"repeat_type": "custom", "custom_start": "07/12/2026", "custom_end": "2026-12-21"},
        "custom_start",
    ),
    ("lead minutes over 120", {"lead_minutes": 121}, "lead_minutes"),
    ("lead minutes negative", {"lead_minutes": -1}, "lead_minutes"),
    ("lead minutes as text", {"lead_minutes": "5"}, "lead_minutes"),
]


@pytest.mark.parametrize(("case", "change", "field"), SCHEDULE_CASES, ids=[c[0] for c in SCHEDULE_CASES])
def test_bad_schedule_is_refused_naming_the_field(client, alice, med_body, case, change, field):
    response = client.post("/api/medications", json=med_body(**change), headers=alice.headers)
    assert field in fields_of(response)["schedule"]
    assert field in response.get_json()["error"]
    assert client.get("/api/medications", headers=alice.headers).get_json() == []


TOP_CASES = [
    ("empty name", {"name": ""}, "name"),
    ("blank name", {"name": "   "}, "name"),
    ("name over 100", {"name": "x" * 101}, "name"),
    ("name missing", {"name": None}, "name"),
    ("notes over 2000", {"notes": "x" * 2001}, "notes"),
    ("no schedule", {"schedule": None}, "schedule"),
    ("schedule not an object", {"schedule": "daily"}, "schedule"),
]


@pytest.mark.parametrize(("case", "change", "field"), TOP_CASES, ids=[c[0] for c in TOP_CASES])
def test_bad_medication_is_refused_naming_the_field(client, alice, med_body, case, change, field):
    response = client.post("/api/medications", json={**med_body(), **change}, headers=alice.headers)
    assert field in fields_of(response)
    assert client.get("/api/medications", headers=alice.headers).get_json() == []


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b""])
def test_a_body_that_is_not_a_json_object_is_refused(client, alice, body):
    headers = {**alice.headers, "Content-Type": "application/json"}
    assert "body" in fields_of(client.post("/api/medications", data=body, headers=headers))
    assert client.get("/api/medications", headers=alice.headers).get_json() == []


def test_limits_themselves_are_accepted(client, alice, med_body):
    body = med_body(times=["00:00", "06:00", "12:00", "23:59"], lead_minutes=120)
    body.update(name="x" * 100, notes="n" * 2000)
    assert client.post("/api/medications", json=body, headers=alice.headers).status_code == 201
    zero = med_body(lead_minutes=0)
    assert client.post("/api/medications", json=zero, headers=alice.headers).get_json()["schedule"]["lead_minutes"] == 0


def test_unknown_fields_are_ignored(client, alice, med_body):
    body = med_body(colour="blue")
    body.update(dosage="10 mg", med_id=999, user_id=42)
    response = client.post("/api/medications", json=body, headers=alice.headers)
    assert response.status_code == 201
    assert response.get_json()["med_id"] != 999
    assert "colour" not in response.get_json()["schedule"]


def test_a_bad_put_changes_nothing(client, alice, med_body):
    med = client.post("/api/medications", json=med_body(), headers=alice.headers).get_json()
    url = f"/api/medications/{med['med_id']}"
    assert "times" in fields_of(client.put(url, json=med_body(times=["25:00"]), headers=alice.headers))["schedule"]
    assert client.get(url, headers=alice.headers).get_json() == med


def test_a_bad_patch_changes_nothing(client, alice, med_body, staged):
    med = client.post("/api/medications", json=med_body(), headers=alice.headers).get_json()
    url = f"/api/medications/{med['med_id']}"
    patch = {"name": "Renamed", "schedule": {"repeat_type": "custom"}}
    assert "custom_start" in fields_of(client.patch(url, json=patch, headers=alice.headers))["schedule"]
    assert "schedule" in fields_of(client.patch(url, json={"schedule": [1]}, headers=alice.headers))
    assert "body" in fields_of(client.patch(url, data=b"nope", headers=alice.headers))
    assert client.get(url, headers=alice.headers).get_json() == med
    assert [e["type"] for e in staged(med["med_id"])] == ["medication.upserted"]


def test_active_end_before_start_is_refused(client, alice, med_body):
    body = {**med_body(), "active_start_date": "2026-12-10", "active_end_date": "2026-12-01"}
    assert "active_end_date" in fields_of(client.post("/api/medications", json=body, headers=alice.headers))
