"""The project's broker config, on the real Mosquitto: the ACL pins each box to its own topics and keeps
pillpal/events/# for the services; anonymous boxes only in legacy mode; provisioned credentials work.

A message the broker refuses is proven absent without waiting: the sender's next, allowed message is a
sentinel, and messages from one sender arrive in order, so once the sentinel is in, the refused one
would have been too."""

import json
import queue
import threading
import time
import uuid
from dataclasses import replace

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from pillpal_gateway.cli import main as cli
from pillpal_shared.broker import start_project_broker
from pillpal_shared.bus import BusClient

from .conftest import SimBox


def arrived(watcher, sentinel):
    return watcher.collect(until=lambda items: sentinel in items, wait=10)


def connect_answer(settings):
    """The broker's answer to a CONNECT (a reason code), without retrying."""
    answered, reasons = threading.Event(), []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=settings.client_id)
    if settings.username:
        client.username_pw_set(settings.username, settings.password)
    client.on_connect = lambda _c, _u, _f, reason, _p: (reasons.append(reason), answered.set())
    client.connect(settings.host, settings.port)
    client.loop_start()
    answered.wait(10)
    client.disconnect()
    client.loop_stop()
    return reasons[0]


def test_a_box_cannot_publish_as_another_box(broker):
    box1 = SimBox(broker, "box-1")
    with broker.watch("pillpal/#") as watcher:
        for topic in ("pillpal/device/box-2", "pillpal/device/box-2/events", "pillpal/device/box-2/telemetry"):
            box1.send(topic, f"forged {topic}")
        box1.send("pillpal/device/box-2/status", "offline")
        box1.send("pillpal/device/box-1/events", "sentinel")
        got = arrived(watcher, b"sentinel")
    box1.close()
    assert b"sentinel" in got
    assert not [item for item in got if isinstance(item, bytes) and (b"forged" in item or item == b"offline")]


def test_a_box_publishes_on_its_own_topics(broker):
    box1 = SimBox(broker, "box-1")
    with broker.watch("pillpal/device/box-1/#") as watcher:  # "#" takes pillpal/device/box-1 itself too
        box1.send("pillpal/device/box-1/telemetry", '{"battery_percent": 90}')
        box1.send("pillpal/device/box-1/status", "online")
        box1.send("pillpal/device/box-1", '{"event": "heartbeat"}')
        got = watcher.collect(until=lambda items: len(items) >= 3)
    box1.close()
    assert got == [{"battery_percent": 90}, b"online", {"event": "heartbeat"}]


def test_a_box_cannot_read_another_boxs_commands(broker):
    box1 = SimBox(broker, "box-1", command_topics=["pillpal/device/box-2/commands", "pillpal/device/box-1/commands"])
    gateway = BusClient(broker.settings("svc-device-gateway")).start()
    gateway.confirm([gateway.publish("pillpal/device/box-2/commands", "ALERT_START")])
    gateway.confirm([gateway.publish("pillpal/device/box-1/commands", "ALERT_STOP")])
    got = box1.received(until=lambda items: ("pillpal/device/box-1/commands", "ALERT_STOP") in items)
    gateway.stop()
    box1.close()
    assert got == [("pillpal/device/box-1/commands", "ALERT_STOP")]


def test_a_box_cannot_write_service_events(broker):
    box1 = SimBox(broker, "box-1")
    forged = {"id": "x", "type": "device.pill_taken", "subject": {"device_id": "box-1", "user_id": 1}}
    with broker.watch("pillpal/#") as watcher:
        box1.send("pillpal/events/device/box-1/pill_taken", json.dumps(forged))
        box1.send("pillpal/events/dose/1/closed", json.dumps(forged))
        box1.send("pillpal/events/rejected", json.dumps(forged))
        box1.send("pillpal/device/box-1/events", "sentinel")
        got = arrived(watcher, b"sentinel")
    box1.close()
    assert b"sentinel" in got and forged not in got


def test_a_box_cannot_command_boxes(broker):
    box1 = SimBox(broker, "box-1", command_topics=["pillpal/device/box-1/commands"])
    box1.send("pillpal/device/box-1/commands", "ALERT_START")
    box1.send("pillpal/device/commands", "ALERT_START")
    gateway = BusClient(broker.settings("svc-device-gateway")).start()
    gateway.confirm([gateway.publish("pillpal/device/box-1/commands", "sentinel")])
    got = box1.received(until=lambda items: ("pillpal/device/box-1/commands", "sentinel") in items)
    gateway.stop()
    box1.close()
    assert got == [("pillpal/device/box-1/commands", "sentinel")]


def test_anonymous_and_wrong_passwords_are_refused_outside_legacy_mode(broker):
    assert connect_answer(broker.settings(None)).is_failure
    assert connect_answer(replace(broker.settings("box-1"), password="wrong")).is_failure
    assert not connect_answer(broker.settings("box-1")).is_failure


@pytest.fixture(scope="module")
def legacy_broker(tmp_path_factory):
    instance = start_project_broker(tmp_path_factory.mktemp("legacy-mosquitto"), {"allow_anonymous": "true"})
    yield instance
    instance.process.terminate()
    instance.process.wait(timeout=10)


def test_legacy_mode_lets_anonymous_boxes_use_the_shared_topics_only(legacy_broker):
    anonymous = SimBox(legacy_broker, None, command_topics=["pillpal/device/commands", "pillpal/device/7/commands"])
    with legacy_broker.watch("pillpal/#") as watcher:
        anonymous.send("pillpal/device/events", '{"device_id": "7", "event_type": "lid_opened"}')
        anonymous.send("pillpal/device/7", '{"event": "pill_taken"}')
        anonymous.send("pillpal/events/device/7/pill_taken", "forged envelope")
        anonymous.send("pillpal/device/7/events", "forged per-device")
        anonymous.send("pillpal/device/7", "sentinel")
        got = arrived(watcher, b"sentinel")
    assert {"device_id": "7", "event_type": "lid_opened"} in got and {"event": "pill_taken"} in got
    assert b"forged envelope" not in got and b"forged per-device" not in got
    gateway = BusClient(legacy_broker.settings("svc-device-gateway")).start()
    gateway.confirm([gateway.publish("pillpal/device/commands", "ALERT_START")])
    gateway.confirm([gateway.publish("pillpal/device/7/commands", "ALERT_STOP")])
    commands = anonymous.received(until=lambda items: len(items) >= 2)
    gateway.stop()
    anonymous.close()
    assert commands == [("pillpal/device/commands", "ALERT_START"), ("pillpal/device/7/commands", "ALERT_STOP")]


def test_a_provisioned_box_connects_with_the_printed_credentials(tmp_path, database_url, capsys):
    broker = start_project_broker(tmp_path)
    try:
        passwd = broker.config_path.parent / "passwd"
        assert (
            cli(["--database-url", database_url, "--json", "register", "--slots", "7", "--passwd-file", str(passwd)])
            == 0
        )
        issued = json.loads(capsys.readouterr().out)
        assert issued["device_id"].startswith("PILLPAL-") and issued["mqtt_username"] == issued["device_id"]
        assert len(issued["pairing_code"]) == 9
        broker.process.send_signal(1)  # SIGHUP: the broker reads its password file again
        box = SimBox(broker, issued["device_id"], issued["mqtt_password"])
        assert box.bus.wait_connected(10)
        with broker.watch(f"pillpal/device/{issued['device_id']}/#") as watcher:
            box.send(f"pillpal/device/{issued['device_id']}/telemetry", '{"battery_percent": 99}')
            assert watcher.collect(until=lambda items: items) == [{"battery_percent": 99}]
        box.close()
        wrong = replace(broker.settings(None), username=issued["device_id"], password="not-it")
        assert connect_answer(wrong).is_failure
    finally:
        broker.process.terminate()
        broker.process.wait(timeout=10)


def test_acknowledged_messages_survive_a_broker_crash(tmp_path):
    """kill -9 after the broker acknowledged 100 QoS 1 messages for a durable consumer that is away: the
    project's persistence (saved every second) delivers all 100 after the restart; with the default
    autosave (every 1800 s) none come back (checked by hand). A crash loses at most the last second of
    acknowledged messages, so the kill comes a little more than one save interval after the PUBACKs."""
    broker = start_project_broker(tmp_path)
    topic, client_id = "pillpal/events/user/1/updated", f"durable-{uuid.uuid4().hex[:8]}"
    received = queue.Queue()

    def consumer():
        subscribed = threading.Event()
        bus = BusClient(
            replace(broker.settings("svc-adherence"), client_id=client_id),
            persistent=True,
            subscriptions=[topic],
            on_message=lambda message: (received.put(message.payload), bus.ack(message)),
        )
        bus.client.on_subscribe = lambda *_a: subscribed.set()
        bus.start()
        assert subscribed.wait(10)
        return bus

    try:
        consumer().stop()  # the durable session exists; its consumer is away
        publisher = BusClient(broker.settings("svc-auth")).start()
        publisher.confirm([publisher.publish(topic, f"m{i}") for i in range(100)])
        publisher.stop()
        time.sleep(4.0)  # one save interval (1 s) and a wide margin for a loaded machine
        broker.kill()
        broker.restart()
        back = consumer()
        got = set()
        deadline = time.monotonic() + 20
        while len(got) < 100 and time.monotonic() < deadline:
            try:
                got.add(received.get(timeout=0.2))
            except queue.Empty:
                continue
        back.stop()
        assert got == {f"m{i}".encode() for i in range(100)}
    finally:
        broker.process.terminate()
        broker.process.wait(timeout=10)
