"""A day with PillPal, end to end: the app registers, pairs the shipped firmware's box (form B, anonymous,
legacy mode), sets its preferences and adds a medication due now; the box rings, the owner opens its lid,
the box stops ringing, and the calendar, the history and the adherence summary show the dose taken. Then
the account is deleted and every service lets go of the user's data. All through nginx, the real broker
and the real database."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pillpal_tools.box import SimulatedBox

from .client import App, eventually, request

pytestmark = pytest.mark.e2e
ZONE = "Asia/Tokyo"  # ahead of UTC, no DST: the app's wall clock is not the server's


@pytest.fixture
def box(legacy_broker):
    device = SimulatedBox(str(random.randint(10**6, 10**9)), legacy_broker.url, form="B", lid_closed_after=0.2)
    device.start()
    yield device
    device.stop()


def due_soon(zone: ZoneInfo) -> datetime:
    """A local time one to two minutes ahead, on the minute: within the default 5-minute lead, so the
    reminder fires as soon as the dose exists."""
    return (datetime.now(zone) + timedelta(minutes=2)).replace(second=0, microsecond=0)


def test_a_dose_from_reminder_to_taken_and_the_account_deleted(system, box):
    app = App(system.gateway_url)
    app.register()  # call 1
    me = app.get("/api/auth/me")  # call 3
    assert me.status == 200 and me.body["email"] == app.email and isinstance(me.body["user_id"], int)
    assert app.call("PATCH", "/api/auth/me", {"timezone": ZONE}).status == 200
    eventually(lambda: app.get("/api/adherence/summary").body["timezone"] == ZONE, "adherence learns the zone")

    # Pairing the shipped firmware: legacy mode pairs by the box id alone; the box gets its preferences.
    paired = app.post("/api/devices/pair", {"device_id": box.device_id})
    assert paired.status == 201 and paired.body["device_id"] == box.device_id
    assert box.wait_command("SET_PREF_LED_ON", timeout=20)

    # Call 13 reaches the box as SET_PREF_* commands.
    settings = app.post("/api/settings/update", {"sound": False, "vibration": True, "device_notifications": False})
    assert settings.status == 200 and isinstance(settings.body["status"], str)
    wanted = {"led": False, "sound": False, "vibration": True}
    assert box.wait_until(lambda b: b.preferences == wanted, timeout=20), box.commands

    # Call 7: a medication due in a minute or two, local time; its reminder fires now.
    zone = ZoneInfo(ZONE)
    at = due_soon(zone)
    schedule = {"repeat_type": "daily", "times": [at.strftime("%H:%M")], "custom_start": None, "custom_end": None}
    added = app.post("/api/medications", {"name": "Lisinopril", "notes": "with water", "schedule": schedule})
    assert added.status in (200, 201)
    (med,) = app.get("/api/medications").body
    assert med["schedule"]["lead_minutes"] >= 2

    assert box.wait_command("ALERT_START", timeout=30), box.commands
    assert box.alerting
    status = app.get("/api/device/alert_status?device_id=1")  # call 14: the shipped app always sends 1
    assert status.status == 200 and status.body == {
        "should_alert": True,
        "led": False,
        "sound": False,
        "vibration": True,
    }
    polled = request(system.gateway_url, "GET", f"/api/device/poll?device_id={box.device_id}")
    assert polled.status == 200 and polled.body == {"led": False, "sound": False, "vibration": True, "alert": True}
    day = at.date().isoformat()
    (dose,) = app.get(f"/api/calendar/day?date={day}").body  # call 10
    assert dose["name"] == "Lisinopril" and dose["time"] == at.strftime("%H:%M") and dose["status"] != "taken"

    # The owner opens the lid: form B `lid_opened` is the shipped firmware's pill_taken.
    box.take_pill()
    assert box.wait_command("ALERT_STOP", timeout=30), box.commands
    assert not box.alerting
    taken = eventually(
        lambda: [d for d in app.get(f"/api/calendar/day?date={day}").body if d["status"] == "taken"], "dose taken"
    )
    assert taken == [{**dose, "status": "taken"}]
    assert app.get("/api/device/alert_status?device_id=1").body["should_alert"] is False
    polled = request(system.gateway_url, "GET", f"/api/device/poll?device_id={box.device_id}")
    assert polled.body["alert"] is False

    # Call 12, as the shipped app sends it (its token in `from`), and the adherence summary.
    history = app.get(f"/api/medications/history?from=Bearer%20{app.token}&to=")
    assert history.status == 200
    assert {
        "date": day,
        "medications": [
            {"id": med["med_id"], "name": "Lisinopril", "scheduledTime": at.strftime("%H:%M"), "status": "taken"}
        ],
    } in history.body
    summary = app.get(f"/api/adherence/summary?from={day}&to={day}").body
    assert (summary["overall"]["taken"], summary["overall"]["missed"]) == (1, 0)
    assert summary["medications"][0]["med_id"] == med["med_id"]

    # Call 4: the account goes, and with it the user's data in every service.
    stops = box.command_counts["ALERT_STOP"]  # legacy mode: each command also comes on the shared topic
    assert app.call("DELETE", "/api/auth/delete").status == 200
    assert app.get("/api/auth/me").status == 401
    login = request(system.gateway_url, "POST", "/api/auth/login", {"email": app.email, "password": app.password})
    assert login.status == 401
    assert box.wait_command("ALERT_STOP", timeout=20, count=stops + 1)  # the gateway let go of the box
    # The old token still verifies until it expires, but makes nothing again: no pairing, no settings.
    assert app.post("/api/devices/pair", {"device_id": str(random.randint(10**6, 10**9))}).status == 401
    assert app.post("/api/settings/update", {"sound": True}).status == 401
    assert app.post("/api/medications", {"name": "x", "schedule": schedule}).status == 401
    other = App(system.gateway_url)
    other.register()
    assert eventually(lambda: other.post("/api/devices/pair", {"device_id": box.device_id}).status == 201, "re-pair")
    # What the old token can still read is gone.
    eventually(lambda: app.get("/api/medications").body == [], "meds forget the user")
    eventually(lambda: app.get(f"/api/calendar/day?date={day}").body == [], "adherence forgets the user")
    assert app.get(f"/api/medications/history?from={day}&to={day}").body == []
    assert app.get("/api/device/alert_status?device_id=1").body["should_alert"] is False
