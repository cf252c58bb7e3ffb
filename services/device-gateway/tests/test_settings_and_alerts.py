"""Call 13 (settings, both namings), call 14 (alert status) and the box poll, over the dose projection
built from dose.* events, with the commands each change stages for the owner's boxes."""

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pillpal_gateway.app import build_gateway
from pillpal_gateway.models import OUTBOX
from pillpal_shared.envelope import new_event

from .test_pairing import basic, outbox_rows, pair

NOW = datetime.now(UTC).replace(microsecond=0)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def gateway(settings, clock):
    return build_gateway(settings, clock)


def dose(kind, user_id, instance_id, at, **data):
    subject = {"user_id": user_id, "med_id": 1, "instance_id": instance_id}
    return new_event(f"dose.{kind}", subject, {"scheduled_at": NOW, **data}, source="adherence", occurred_at=at)


def apply(db, gateway, envelope):
    with db.transaction() as session:
        gateway.handlers()[envelope.type](session, envelope)


def test_settings_default_then_update_in_the_apps_naming(client, user):
    assert client.get("/api/settings", headers=user[1]).json == {
        "sound": True,
        "vibration": True,
        "device_notifications": True,
        "sound_enabled": True,
        "vibration_enabled": True,
        "led_enabled": True,
        "lead_minutes_default": 5,
        "dyslexia_font": False,
    }
    response = client.post(
        "/api/settings/update", json={"sound": False, "vibration": True, "device_notifications": False}, headers=user[1]
    )
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    got = client.get("/api/settings", headers=user[1]).json
    assert (got["sound"], got["vibration"], got["device_notifications"], got["led_enabled"]) == (
        False,
        True,
        False,
        False,
    )


def test_settings_in_the_original_naming_and_the_apps_wins(client, user):
    client.post("/api/settings/update", json={"sound_enabled": False, "led_enabled": False}, headers=user[1])
    got = client.get("/api/settings", headers=user[1]).json
    assert (got["sound"], got["device_notifications"]) == (False, False)
    client.post("/api/settings/update", json={"vibration": False, "vibration_enabled": True}, headers=user[1])
    assert client.get("/api/settings", headers=user[1]).json["vibration"] is False


def test_settings_refuse_what_is_not_a_boolean(client, user):
    response = client.post("/api/settings/update", json={"sound": "yes"}, headers=user[1])
    assert response.status_code == 400 and "sound" in response.json["fields"]
    assert client.post("/api/settings/update", json={"sound": True}).status_code == 401


def test_a_settings_change_reaches_the_paired_box_as_commands(client, db, box, user):
    pair(client, user[1], box.device_id, box.pairing_code)
    topic = f"pillpal/device/{box.device_id}/commands"
    paired = len(outbox_rows(db, topic))
    client.post(
        "/api/settings/update", json={"sound": False, "vibration": True, "device_notifications": False}, headers=user[1]
    )
    client.post("/api/settings/update", json={"sound": False}, headers=user[1])  # no change: nothing sent
    assert outbox_rows(db, topic)[paired:] == ["SET_PREF_SOUND_OFF", "SET_PREF_LED_OFF"]
    (event,) = [json.loads(p) for p in outbox_rows(db, f"pillpal/events/settings/{user[0]}/updated")]
    assert event["data"] == {"sound": False, "vibration": True, "led": False}


def test_alert_status_answers_for_the_caller_whatever_device_id(client, db, gateway, user, other_user, clock):
    apply(db, gateway, dose("due", other_user[0], random.randint(1, 10**9), NOW, med_name="X", due_at=NOW))
    assert client.get("/api/device/alert_status?device_id=1", headers=user[1]).json == {
        "should_alert": False,
        "led": True,
        "sound": True,
        "vibration": True,
    }
    assert client.get("/api/device/alert_status?device_id=1", headers=other_user[1]).json["should_alert"] is True
    assert client.get("/api/device/alert_status?device_id=1").status_code == 401


def test_the_dose_projection_follows_due_snoozed_and_closed(db, gateway, user, clock):
    user_id, instance = user[0], random.randint(1, 10**9)

    def alerting():
        with db.transaction() as session:
            return gateway.alerting(session, user_id)

    apply(db, gateway, dose("due", user_id, instance, NOW, med_name="X", due_at=NOW))
    assert alerting()
    apply(
        db, gateway, dose("snoozed", user_id, instance, NOW + timedelta(minutes=1), until=NOW + timedelta(minutes=10))
    )
    assert not alerting()
    clock.now = NOW + timedelta(minutes=11)  # the snooze ran out
    assert alerting()
    apply(db, gateway, dose("due", user_id, instance, NOW, med_name="X", due_at=NOW))  # late copy of the first due
    apply(db, gateway, dose("closed", user_id, instance, NOW + timedelta(minutes=12), status="taken"))
    assert not alerting()
    apply(db, gateway, dose("due", user_id, instance, NOW + timedelta(minutes=13), med_name="X", due_at=NOW))
    assert not alerting()  # a closed dose stays closed


def test_a_dose_alerting_too_long_no_longer_rings(db, gateway, user, clock):
    apply(db, gateway, dose("due", user[0], random.randint(1, 10**9), NOW, med_name="X", due_at=NOW))
    clock.now = NOW + timedelta(days=2)
    with db.transaction() as session:
        assert not gateway.alerting(session, user[0])


def test_dose_events_command_the_owners_boxes(client, db, gateway, box, user):
    pair(client, user[1], box.device_id, box.pairing_code)
    topic = f"pillpal/device/{box.device_id}/commands"
    before = len(outbox_rows(db, topic))
    first, second = random.randint(1, 10**9), random.randint(1, 10**9)
    apply(db, gateway, dose("due", user[0], first, NOW, med_name="A", due_at=NOW))
    apply(db, gateway, dose("due", user[0], second, NOW, med_name="B", due_at=NOW))
    apply(db, gateway, dose("closed", user[0], first, NOW + timedelta(minutes=1), status="taken"))  # B still rings
    apply(db, gateway, dose("closed", user[0], second, NOW + timedelta(minutes=2), status="missed"))
    assert outbox_rows(db, topic)[before:] == ["ALERT_START", "ALERT_START", "ALERT_STOP"]
    poll = client.get("/api/device/poll", headers=basic(box.device_id, box.mqtt_password)).json
    assert poll["alert"] is False


def test_the_poll_turns_alert_on_while_a_dose_rings(client, db, gateway, box, user):
    pair(client, user[1], box.device_id, box.pairing_code)
    client.post("/api/settings/update", json={"vibration": False}, headers=user[1])
    apply(db, gateway, dose("due", user[0], random.randint(1, 10**9), NOW, med_name="A", due_at=NOW))
    polled = client.get("/api/device/poll", headers=basic(box.device_id, box.mqtt_password)).json
    assert polled == {"led": True, "sound": True, "vibration": False, "alert": True}


def test_a_deleted_user_loses_pairings_settings_and_alarms(client, db, gateway, box, user):
    user_id, headers = user
    pair(client, headers, box.device_id, box.pairing_code)
    client.post("/api/settings/update", json={"sound": False}, headers=headers)
    apply(db, gateway, dose("due", user_id, random.randint(1, 10**9), NOW, med_name="A", due_at=NOW))
    apply(db, gateway, new_event("user.deleted", {"user_id": user_id}, {}, source="auth"))
    assert client.get("/api/devices", headers=headers).json == []
    assert client.get("/api/settings", headers=headers).json["sound"] is True
    assert client.get("/api/device/alert_status", headers=headers).json["should_alert"] is False
    assert outbox_rows(db, f"pillpal/device/{box.device_id}/commands")[-1] == "ALERT_STOP"
    table = OUTBOX.table
    with db.transaction() as session:
        removed = session.scalars(
            select(table.c.payload).where(table.c.topic == f"pillpal/events/pairing/{box.device_id}/removed")
        ).all()
    assert [json.loads(p)["subject"]["user_id"] for p in removed] == [user_id]


def test_a_deleted_users_token_can_no_longer_pair_a_box_or_save_settings(client, db, gateway, box, user):
    """Access tokens outlive the account (they verify until they expire)."""
    user_id, headers = user
    deleted = new_event("user.deleted", {"user_id": user_id}, {}, source="auth")
    apply(db, gateway, deleted)
    apply(db, gateway, deleted)  # the tombstone is written once
    assert pair(client, headers, box.device_id, box.pairing_code).status_code == 401
    assert client.post("/api/settings/update", json={"sound": False}, headers=headers).status_code == 401
    assert client.get("/api/devices", headers=headers).json == []
    assert client.get("/api/settings", headers=headers).json["sound"] is True
