"""CONTRACTS.md section 1 replayed through nginx as the shipped app sends it (calls 1-14, /api/health,
the seed's `?user_id=X`), each answer checked for the documented shape and JSON types; and one user
can neither read nor change another's medications, doses or boxes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .client import App, eventually, request
from .shapes import ALERT_STATUS, CALENDAR, HEALTH, HISTORY, ME, MEDICATION, POLL, SETTINGS, TOKEN, conforms

pytestmark = pytest.mark.e2e
STALE = {"Authorization": "Bearer eyJhbGciOiJFZERTQSJ9.stale.token"}
WEEKLY = {
    "name": "Lisinopril",
    "notes": "with water",
    "schedule": {
        "repeat_type": "weekly",
        "day_mask": "1111111",
        "times": ["23:30", "08:00"],
        "custom_start": None,
        "custom_end": None,
    },
}


def daytime_zone() -> str:
    """A zone where 23:30 today is still ahead (so today has a dose), whatever the hour of the test."""
    return "UTC" if datetime.now(UTC).hour < 22 else "Asia/Tokyo"


def user_in(base: str, zone: str) -> App:
    app = App(base)
    app.register()
    if zone != "UTC":
        assert app.call("PATCH", "/api/auth/me", {"timezone": zone}).status == 200
    eventually(lambda: app.get("/api/adherence/summary").body["timezone"] == zone, "adherence learns the zone")
    return app


def test_every_call_of_section_1_answers_the_documented_shape(system):
    base = system.gateway_url
    assert conforms(request(base, "GET", "/api/health").body, HEALTH)
    assert request(base, "GET", "/api/health").body == {"status": "ok", "db": True}

    # 1, 2: a stale token on register and login must not make them fail.
    app = App(base)
    body = {"email": app.email, "password": app.password, "full_name": "Ann Example", "birthday": "04/12/1950"}
    registered = request(base, "POST", "/api/auth/register", body, STALE)
    assert registered.status == 201 and conforms(registered.body, TOKEN)
    assert request(base, "POST", "/api/auth/register", body, STALE).status == 409
    app.token = registered.body["token"]
    login = app.post("/api/auth/login", {"email": app.email, "password": app.password})
    assert login.status == 200 and conforms(login.body, TOKEN)
    assert request(base, "POST", "/api/auth/login", {"email": app.email, "password": "wrong"}, STALE).status == 401
    app.token = login.body["token"]

    me = app.get("/api/auth/me")  # 3
    assert me.status == 200 and conforms(me.body, ME)
    assert (me.body["full_name"], me.body["birthday"]) == ("Ann Example", "04/12/1950")
    zone = daytime_zone()
    if zone != "UTC":
        assert app.call("PATCH", "/api/auth/me", {"timezone": zone}).status == 200
    eventually(lambda: app.get("/api/adherence/summary").body["timezone"] == zone, "adherence learns the zone")

    settings = app.post("/api/settings/update", {"sound": True, "vibration": False, "device_notifications": True})
    assert settings.status == 200 and conforms(settings.body, SETTINGS)  # 13
    original = app.post(
        "/api/settings/update", {"sound_enabled": False, "vibration_enabled": True, "led_enabled": True}
    )
    assert original.status == 200 and conforms(original.body, SETTINGS)

    assert 200 <= app.post("/api/medications", WEEKLY).status < 300  # 7
    listed = app.get("/api/medications")  # 5
    assert listed.status == 200 and conforms(listed.body, [MEDICATION]) and len(listed.body) == 1
    med = listed.body[0]
    assert med["schedule"]["times"] == ["08:00", "23:30"] and med["schedule"]["day_mask"] == "1111111"
    assert app.get(f"/api/medications?user_id={me.body['user_id']}").body == listed.body  # the seed's form
    assert app.get(f"/api/medications?user_id={me.body['user_id'] + 1}").body == listed.body  # never another's
    one = app.get(f"/api/medications/{med['med_id']}")  # 6
    assert one.status == 200 and conforms(one.body, MEDICATION) and one.body == med
    daily = {**WEEKLY, "schedule": {**WEEKLY["schedule"], "repeat_type": "daily", "day_mask": None, "times": ["23:30"]}}
    assert 200 <= app.call("PUT", f"/api/medications/{med['med_id']}", daily).status < 300  # 8
    assert app.get(f"/api/medications/{med['med_id']}").body["schedule"]["times"] == ["23:30"]

    today = datetime.now(ZoneInfo(zone)).date()
    doses = eventually(
        lambda: [d for d in app.get(f"/api/calendar/day?date={today}").body if d["time"] == "23:30"], "today's dose"
    )
    calendar = app.get(f"/api/calendar/day?date={today}")  # 10
    assert calendar.status == 200 and conforms(calendar.body, CALENDAR)
    assert [d["time"] for d in calendar.body] == sorted(d["time"] for d in calendar.body)
    updated = app.post("/api/dose/update", {"instance_id": doses[0]["instance_id"], "status": "taken"})  # 11
    assert 200 <= updated.status < 300
    assert app.post("/api/dose/update", {"instance_id": doses[0]["instance_id"], "status": "missed"}).status < 300
    assert app.post("/api/dose/update", {"instance_id": doses[0]["instance_id"], "status": "taken"}).status < 300

    for query in (f"from=Bearer%20{app.token}&to=", f"from={today - timedelta(days=7)}&to={today}", ""):  # 12
        history = app.get(f"/api/medications/history?{query}".rstrip("?"))
        assert history.status == 200 and conforms(history.body, HISTORY), query
        assert history.body[0]["date"] == today.isoformat()
        entry = {"id": med["med_id"], "name": "Lisinopril", "scheduledTime": "23:30", "status": "taken"}
        assert entry in history.body[0]["medications"]

    status = app.get("/api/device/alert_status?device_id=1")  # 14
    assert status.status == 200 and conforms(status.body, ALERT_STATUS)
    assert status.body == {"should_alert": False, "led": True, "sound": False, "vibration": True}
    box = str(random.randint(10**6, 10**9))
    assert app.post("/api/devices/pair", {"device_id": box}).status == 201
    polled = request(base, "GET", f"/api/device/poll?device_id={box}")  # the polling firmware (section 2)
    assert polled.status == 200 and conforms(polled.body, POLL)
    assert polled.body == {"led": True, "sound": False, "vibration": True, "alert": False}

    assert 200 <= app.call("DELETE", f"/api/medications/{med['med_id']}").status < 300  # 9
    assert app.get(f"/api/medications/{med['med_id']}").status == 404
    assert app.get("/api/medications").body == []
    assert 200 <= app.call("DELETE", "/api/auth/delete").status < 300  # 4


def test_one_user_cannot_reach_anothers_medications_doses_or_boxes(system):
    zone = daytime_zone()
    ann, bob = user_in(system.gateway_url, zone), user_in(system.gateway_url, zone)
    ann_id = ann.get("/api/auth/me").body["user_id"]
    assert ann.post("/api/medications", WEEKLY).status == 201
    (med,) = ann.get("/api/medications").body
    today = datetime.now(ZoneInfo(zone)).date()
    (dose,) = eventually(
        lambda: [d for d in ann.get(f"/api/calendar/day?date={today}").body if d["time"] == "23:30"], "Ann's dose"
    )
    box = str(random.randint(10**6, 10**9))
    assert ann.post("/api/devices/pair", {"device_id": box}).status == 201

    # Bob's app, pointed at Ann's things.
    path = f"/api/medications/{med['med_id']}"
    assert bob.get(path).status == 404
    assert bob.call("PUT", path, {**WEEKLY, "name": "Bob's now"}).status == 404
    assert bob.call("DELETE", path).status == 404
    assert bob.get("/api/medications").body == []
    assert bob.get(f"/api/medications?user_id={ann_id}").body == []
    for status in ("taken", "missed"):
        assert bob.post("/api/dose/update", {"instance_id": dose["instance_id"], "status": status}).status == 404
    assert bob.post("/api/dose/mark_taken", {"instance_id": dose["instance_id"]}).status == 404
    assert bob.get(f"/api/calendar/day?date={today}").body == []
    assert bob.get(f"/api/medications/history?from={today}&to={today}").body == []
    assert bob.post("/api/devices/pair", {"device_id": box}).status == 409
    assert bob.call("DELETE", f"/api/devices/{box}").status == 404
    assert bob.get("/api/devices").body == []

    # A dose of Ann's rings: her alert status says so, Bob's (the same device_id=1) does not.
    soon = (datetime.now(ZoneInfo(zone)) + timedelta(minutes=2)).strftime("%H:%M")
    due = {**WEEKLY, "name": "Due now", "schedule": {**WEEKLY["schedule"], "repeat_type": "daily", "times": [soon]}}
    assert ann.post("/api/medications", due).status == 201
    eventually(lambda: ann.get("/api/device/alert_status?device_id=1").body["should_alert"], "Ann's alert")
    assert bob.get("/api/device/alert_status?device_id=1").body["should_alert"] is False

    # Ann's things are as she left them.
    assert ann.get(path).body == med
    assert [d for d in ann.get(f"/api/calendar/day?date={today}").body if d["time"] == "23:30"] == [dose]
    assert [b["device_id"] for b in ann.get("/api/devices").body] == [box]
