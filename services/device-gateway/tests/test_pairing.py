"""Pairing through the HTTP API on the real MariaDB: a box held by A cannot be paired by B, and B cannot
list, unpair or poll A's box. Pairing changes are announced through the outbox."""

import base64
import json

from sqlalchemy import select

from pillpal_gateway.models import OUTBOX

from .conftest import new_box_id


def pair(client, headers, device_id, code):
    return client.post("/api/devices/pair", json={"device_id": device_id, "pairing_code": code}, headers=headers)


def basic(username, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def outbox_rows(db, topic):
    table = OUTBOX.table
    with db.transaction() as session:
        return (
            session.execute(select(table.c.payload).where(table.c.topic == topic).order_by(table.c.id)).scalars().all()
        )


def test_pairing_lists_the_box_with_its_state(client, box, user):
    response = pair(client, user[1], box.device_id, box.pairing_code)
    assert response.status_code == 201
    assert response.json["device_id"] == box.device_id
    listed = client.get("/api/devices", headers=user[1]).json
    assert [b["device_id"] for b in listed] == [box.device_id]
    assert listed[0]["online"] is False
    assert listed[0]["last_seen"] is None and listed[0]["battery_percent"] is None
    assert listed[0]["fw_version"] == "1.0.0"
    assert pair(client, user[1], box.device_id, box.pairing_code.lower()).status_code == 200  # already theirs


def test_pairing_needs_the_right_code(client, box, user):
    assert pair(client, user[1], box.device_id, "AAAA-AAAA").status_code == 404
    assert pair(client, user[1], box.device_id, None).status_code == 404
    assert pair(client, user[1], new_box_id(), box.pairing_code).status_code == 404
    assert client.get("/api/devices", headers=user[1]).json == []


def test_a_box_held_by_a_cannot_be_paired_listed_unpaired_or_polled_by_b(client, db, box, user, other_user):
    (_, alice), (_, bob) = user, other_user
    assert pair(client, alice, box.device_id, box.pairing_code).status_code == 201
    taken = pair(client, bob, box.device_id, box.pairing_code)
    assert taken.status_code == 409
    assert client.get("/api/devices", headers=bob).json == []
    assert client.delete(f"/api/devices/{box.device_id}", headers=bob).status_code == 404
    assert client.get(f"/api/device/poll?device_id={box.device_id}", headers=bob).status_code == 401
    assert client.get(f"/api/device/poll?device_id={box.device_id}").status_code == 401
    assert [b["device_id"] for b in client.get("/api/devices", headers=alice).json] == [box.device_id]


def test_unpairing_frees_the_box_and_is_announced(client, db, box, user, other_user):
    (alice_id, alice), (bob_id, bob) = user, other_user
    assert pair(client, alice, box.device_id, box.pairing_code).status_code == 201
    assert client.delete(f"/api/devices/{box.device_id}", headers=alice).status_code == 200
    assert client.get("/api/devices", headers=alice).json == []
    assert client.delete(f"/api/devices/{box.device_id}", headers=alice).status_code == 404
    assert pair(client, bob, box.device_id, box.pairing_code).status_code == 201
    created = [json.loads(p) for p in outbox_rows(db, f"pillpal/events/pairing/{box.device_id}/created")]
    removed = [json.loads(p) for p in outbox_rows(db, f"pillpal/events/pairing/{box.device_id}/removed")]
    assert [e["subject"]["user_id"] for e in created] == [alice_id, bob_id]
    assert [e["subject"]["user_id"] for e in removed] == [alice_id]
    assert "ALERT_STOP" in outbox_rows(db, f"pillpal/device/{box.device_id}/commands")


def test_a_newly_paired_box_gets_its_owners_preferences(client, db, box, user):
    client.post("/api/settings/update", json={"sound": False}, headers=user[1])
    assert pair(client, user[1], box.device_id, box.pairing_code).status_code == 201
    assert outbox_rows(db, f"pillpal/device/{box.device_id}/commands") == [
        "SET_PREF_SOUND_OFF",
        "SET_PREF_VIB_ON",
        "SET_PREF_LED_ON",
    ]


def test_the_poll_takes_the_boxs_own_credentials(client, box, db, user):
    from pillpal_gateway.cli import register

    other = register(db, new_box_id())
    pair(client, user[1], box.device_id, box.pairing_code)
    mine = client.get(f"/api/device/poll?device_id={box.device_id}", headers=basic(box.device_id, box.mqtt_password))
    assert mine.status_code == 200
    assert mine.json == {"led": True, "sound": True, "vibration": True, "alert": False}
    assert client.get("/api/device/poll", headers=basic(box.device_id, box.mqtt_password)).status_code == 200
    wrong = client.get(f"/api/device/poll?device_id={box.device_id}", headers=basic(box.device_id, "guess"))
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Basic")
    as_other = client.get(
        f"/api/device/poll?device_id={box.device_id}", headers=basic(other.device_id, other.mqtt_password)
    )
    assert as_other.status_code == 403


def test_pairing_validates_and_requires_a_token(client, user):
    assert client.post("/api/devices/pair", json={"device_id": "a b/c", "pairing_code": "x"}, headers=user[1]).json[
        "fields"
    ] == {"device_id": ["Not a valid device id."]}
    assert client.post("/api/devices/pair", json={"device_id": "x"}).status_code == 401
    assert client.get("/api/devices").status_code == 401


def test_legacy_mode_pairs_by_box_id_alone_and_polls_without_credentials(legacy_client, user, other_user):
    device_id = str(abs(hash(new_box_id())) % 10**9)  # the shipped firmware's ids are numeric text
    assert pair(legacy_client, user[1], device_id, None).status_code == 201
    assert pair(legacy_client, other_user[1], device_id, None).status_code == 409
    polled = legacy_client.get(f"/api/device/poll?device_id={device_id}")
    assert polled.status_code == 200 and polled.json["alert"] is False
    assert legacy_client.get("/api/device/poll").status_code == 400
