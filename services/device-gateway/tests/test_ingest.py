"""The box ingest through the real Mosquitto (project config) and MariaDB: a simulated box speaks forms A
and B and the per-device form; the normalised events arrive, a resend carries the same id, and the
bad-message corpus is dead-lettered while the service keeps handling good messages."""

import json
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from pillpal_gateway.cli import register
from pillpal_gateway.models import Device, DeviceState
from pillpal_shared.metrics import EVENTS_REJECTED

from .conftest import SimBox, new_box_id
from .corpus import BOX, CORPUS, ORPHAN


def pair(client, headers, issued):
    response = client.post(
        "/api/devices/pair", json={"device_id": issued.device_id, "pairing_code": issued.pairing_code}, headers=headers
    )
    assert response.status_code == 201, response.json
    return response.json


def stamp(moment):
    return moment.isoformat().replace("+00:00", "Z")


def test_every_form_is_normalised_onto_the_bus(worker, broker, client, box, user):
    user_id, headers = user
    pair(client, headers, box)
    sim = SimBox(broker, "svc-ops")
    t = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    with broker.watch(f"pillpal/events/device/{box.device_id}/#") as watcher:
        sim.send(
            f"pillpal/device/{box.device_id}",
            json.dumps({"device_id": box.device_id, "event": "pill_taken", "timestamp": stamp(t)}),
        )
        sim.send(
            "pillpal/device/events",
            json.dumps(
                {
                    "device_id": box.device_id,
                    "event_type": "lid_opened",
                    "source": "device",
                    "timestamp": (t + timedelta(seconds=1, microseconds=123456)).isoformat(),
                }
            ),
        )
        sim.send(
            f"pillpal/device/{box.device_id}/events",
            json.dumps({"event": "alert_started", "timestamp": stamp(t + timedelta(seconds=2)), "seq": 7}),
        )
        sim.send(
            "pillpal/device/events",
            json.dumps({"device_id": box.device_id, "event_type": "lid_closed", "timestamp": stamp(t)}),
        )
        got = watcher.collect(until=lambda items: len(items) >= 3)
    sim.close()
    events = [e for e in got if e["type"] != "device.status_changed"]
    assert [(e["type"], e["data"]["form"], e["data"]["raw_event"]) for e in events] == [
        ("device.pill_taken", "A", "pill_taken"),
        ("device.pill_taken", "B", "lid_opened"),
        ("device.alert_started", "device", "alert_started"),
    ]
    assert all(e["subject"] == {"device_id": box.device_id, "user_id": user_id} for e in events)
    assert events[0]["occurred_at"] == stamp(t)
    assert events[1]["occurred_at"] == stamp(t + timedelta(seconds=1, microseconds=123456))
    assert events[2]["data"]["seq"] == 7
    assert all(e["data"]["clock_skew"] is False for e in events)


def test_a_resend_carries_the_same_id(worker, broker, client, box, user):
    pair(client, user[1], box)
    sim = SimBox(broker, "svc-ops")
    message = json.dumps({"event": "pill_taken", "timestamp": stamp(datetime.now(UTC)), "seq": 1})
    with broker.watch(f"pillpal/events/device/{box.device_id}/pill_taken") as watcher:
        for _ in range(3):
            sim.send(f"pillpal/device/{box.device_id}/events", message)
        got = watcher.collect(until=lambda items: len(items) >= 3)
    sim.close()
    assert len(got) == 3
    assert len({e["id"] for e in got}) == 1


def test_an_absurd_box_clock_is_replaced_by_the_receive_time(worker, broker, client, box, user):
    pair(client, user[1], box)
    sim = SimBox(broker, "svc-ops")
    before = datetime.now(UTC)
    with broker.watch(f"pillpal/events/device/{box.device_id}/alert_started") as watcher:
        sim.send(
            f"pillpal/device/{box.device_id}/events", '{"event": "alert_started", "timestamp": "1970-01-01T00:00:00Z"}'
        )
        (event,) = watcher.collect(until=lambda items: len(items) >= 1)
    sim.close()
    occurred = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
    assert event["data"]["clock_skew"] is True
    assert event["data"]["box_time"] == "1970-01-01T00:00:00Z"
    assert before <= occurred <= datetime.now(UTC)


def test_the_bad_message_corpus_is_dead_lettered_and_the_ingest_goes_on(worker, broker, client, db, user):
    issued = register(db, BOX)
    register(db, ORPHAN)
    pair(client, user[1], issued)
    counted_before = sum(
        sample.value for sample in EVENTS_REJECTED.collect()[0].samples if sample.name.endswith("_total")
    )
    sim = SimBox(broker, "svc-ops")
    good = json.dumps({"event": "pill_taken", "timestamp": stamp(datetime.now(UTC))})
    with broker.watch("pillpal/events/rejected") as rejected, broker.watch(f"pillpal/events/device/{BOX}/#") as normal:
        for _name, topic, payload, _reason in CORPUS:
            sim.send(topic, payload)
        sim.send(f"pillpal/device/{BOX}/events", good)
        dead = rejected.collect(until=lambda items: len(items) >= len(CORPUS))
        after = normal.collect(until=lambda items: any(e["type"] == "device.pill_taken" for e in items))
    sim.close()
    mine = [e["data"] for e in dead if e["data"]["consumer"] == "device-gateway-ingest"]
    assert len(mine) == len(CORPUS)
    for (name, topic, payload, reason), letter in zip(CORPUS, mine, strict=True):
        assert letter["topic"] == topic, name
        assert letter["reason"].startswith(reason), (name, letter["reason"])
        assert letter["payload_size"] == len(payload), name
        assert len(letter["payload"]) <= 2048, name
    assert [e["type"] for e in after if e["type"] == "device.pill_taken"] == ["device.pill_taken"]
    counted = sum(sample.value for sample in EVENTS_REJECTED.collect()[0].samples if sample.name.endswith("_total"))
    assert counted - counted_before >= len(CORPUS)


def test_telemetry_and_status_update_the_box_state(worker, broker, client, db, box, user):
    pair(client, user[1], box)
    sim = SimBox(broker, "svc-ops")
    topic = f"pillpal/device/{box.device_id}"
    with broker.watch(f"pillpal/events/device/{box.device_id}/status_changed") as watcher:
        sim.send(f"{topic}/telemetry", json.dumps({"battery_percent": 64, "rssi": -71, "fw_version": "2.0.1"}))
        online = watcher.collect(until=lambda items: len(items) >= 1)
        sim.send(f"{topic}/status", "offline", retain=True)
        offline = watcher.collect(until=lambda items: len(items) >= 1)
    sim.close()
    assert [e["data"]["online"] for e in online + offline] == [True, False]
    listed = client.get("/api/devices", headers=user[1]).json
    assert listed[0]["battery_percent"] == 64 and listed[0]["rssi"] == -71 and listed[0]["fw_version"] == "2.0.1"
    assert listed[0]["online"] is False and listed[0]["last_seen"] is not None
    with db.transaction() as session:
        assert session.get(Device, box.device_id).fw_version == "2.0.1"
        assert session.scalar(select(DeviceState.online).where(DeviceState.device_id == box.device_id)) is False


def test_an_unregistered_box_is_dead_lettered(worker, broker):
    sim = SimBox(broker, "svc-ops")
    stranger = new_box_id()
    with broker.watch("pillpal/events/rejected") as rejected:
        sim.send(f"pillpal/device/{stranger}/telemetry", '{"battery_percent": 50}')
        got = rejected.collect(
            until=lambda items: any(e["data"]["topic"].endswith(f"{stranger}/telemetry") for e in items)
        )
    sim.close()
    assert any(e["data"]["reason"].startswith("unknown device") for e in got)


def test_a_reader_bug_met_by_one_message_dead_letters_it_and_spares_the_batch(
    settings, db, broker, client, box, user, monkeypatch
):
    """Fault injection: the reader crashes on one payload. That message is dead-lettered; the rest of its
    batch is normalised, and nothing blocks the stream."""
    from pillpal_gateway.app import build_gateway
    from pillpal_gateway.ingest import consumer as ingest_module
    from pillpal_shared.bus import Message
    from pillpal_shared.db import utcnow

    pair(client, user[1], box)
    real_read = ingest_module.read

    def flaky_read(topic, payload):
        if payload == b'{"crash": true}':
            raise RuntimeError("a bug")
        return real_read(topic, payload)

    monkeypatch.setattr(ingest_module, "read", flaky_read)
    ingest = ingest_module.BoxIngest(db, settings.common.mqtt, build_gateway(settings), clock=utcnow).start()
    topic = f"pillpal/device/{box.device_id}/events"
    good = json.dumps({"event": "pill_taken", "timestamp": stamp(datetime.now(UTC))}).encode()
    batch = [
        Message(topic, p, i + 1, 0, False, ingest.bus.generation, time.monotonic())
        for i, p in enumerate([b'{"crash": true}', good])
    ]
    with (
        broker.watch("pillpal/events/rejected") as rejected,
        broker.watch(f"pillpal/events/device/{box.device_id}/#") as normal,
    ):
        ingest.handle(batch)
        dead = rejected.collect(until=lambda items: items)
        events = normal.collect(until=lambda items: any(e["type"] == "device.pill_taken" for e in items))
    ingest.bus.stop()
    assert [d["data"]["reason"] for d in dead] == ["unreadable: RuntimeError: a bug"]
    assert [e["type"] for e in events if e["type"] == "device.pill_taken"] == ["device.pill_taken"]
