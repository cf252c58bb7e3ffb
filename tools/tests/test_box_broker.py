"""Simulated boxes through the real Mosquitto with the project's config (the `broker` fixture).

Legacy (anonymous) boxes need the broker's legacy mode; until the tests' broker offers it, form B boxes
log in as the observer user svc-ops, which may use every pillpal/ topic.
"""

import uuid

import pytest

from pillpal_shared.bus import BusClient
from pillpal_tools.box import SimulatedBox
from pillpal_tools.sim import main


def unique(prefix: str = "sim-") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
def ops(broker):
    bus = BusClient(broker.settings("svc-ops")).start()
    yield bus
    bus.stop()


def command(bus, topic, text):
    bus.confirm([bus.publish(topic, text.encode())])


def firmware_box(broker, **kwargs):
    return SimulatedBox(unique(), broker.url, username="svc-ops", password=broker.passwords["svc-ops"], **kwargs)


def test_a_firmware_box_publishes_form_b_on_the_shared_topic(broker):
    device = firmware_box(broker, lid_closed_after=0.05).start()
    try:
        with broker.watch("pillpal/device/events") as watcher:
            device.take_pill()
            got = watcher.collect(until=lambda items: len(items) >= 2)
    finally:
        device.stop()
    mine = [item for item in got if item["device_id"] == device.device_id]
    assert [item["event_type"] for item in mine] == ["lid_opened", "lid_closed"]
    assert all(item["source"] == "device" and item["timestamp"].endswith("+00:00") for item in mine)


def test_an_alert_makes_the_box_open_its_lid_and_stop_ends_it(broker, ops):
    device = firmware_box(broker, open_lid_after=0.0, lid_closed_after=0.05).start()
    try:
        with broker.watch("pillpal/device/events") as watcher:
            command(ops, f"pillpal/device/{device.device_id}/commands", "ALERT_START")
            got = watcher.collect(until=lambda items: any(i["device_id"] == device.device_id for i in items))
        assert {"device_id": device.device_id, "event_type": "lid_opened"}.items() <= next(
            item for item in got if item["device_id"] == device.device_id
        ).items()
        assert device.alerting and device.lid_openings == 1
        command(ops, f"pillpal/device/{device.device_id}/commands", "ALERT_STOP")
        assert device.wait_until(lambda box: not box.alerting)
    finally:
        device.stop()


def test_a_firmware_box_obeys_the_shared_command_topic(broker, ops):
    device = firmware_box(broker).start()
    try:
        command(ops, "pillpal/device/commands", "SET_PREF_VIB_OFF")
        assert device.wait_command("SET_PREF_VIB_OFF")
        assert device.preferences["vibration"] is False
    finally:
        device.stop()


def test_a_box_with_credentials_uses_its_own_topics(broker, ops):
    device = SimulatedBox("box-1", broker.url, form="device", username="box-1", password=broker.passwords["box-1"])
    with broker.watch("pillpal/device/box-1/+") as watcher:
        device.start()
        try:
            device.send("lid_opened")
            command(ops, "pillpal/device/box-1/commands", "SET_PREF_LED_OFF")
            assert device.wait_command("SET_PREF_LED_OFF")
            assert device.preferences["led"] is False
        finally:
            device.stop()
        got = watcher.collect(until=lambda items: b"offline" in items)
    events = [item for item in got if isinstance(item, dict) and item.get("event") == "lid_opened"]
    assert len(events) == 1 and events[0]["seq"] == 1
    assert got.index(b"online") < got.index(b"offline")


def test_a_wrong_password_is_refused(broker):
    device = SimulatedBox("box-2", broker.url, form="device", username="box-2", password="wrong")
    with pytest.raises(ConnectionError, match="refused"):
        device.start(wait=5)


def run_sim(broker, extra: list[str], expected: int) -> tuple[str, list[dict]]:
    """Runs pillpal-sim with boxes of a fresh prefix; returns the prefix and the events they published."""
    prefix = unique() + "-"
    argv = ["--broker", broker.url, "--prefix", prefix, "--report-every", "60", *extra]
    argv += ["--username", "svc-ops", "--password", broker.passwords["svc-ops"]]

    def mine(items: list[dict]) -> list[dict]:
        return [item for item in items if item["device_id"].startswith(prefix)]

    with broker.watch("pillpal/device/events") as watcher:
        assert main(argv) == 0
        got = watcher.collect(until=lambda items: len(mine(items)) >= expected)
    return prefix, mine(got)


def test_pillpal_sim_sends_every_event_confirmed(broker, capsys):
    prefix, events = run_sim(broker, ["--count", "3", "--rate", "200", "--total", "9"], 9)
    assert len(events) == 9
    assert {item["device_id"] for item in events} == {f"{prefix}{n}" for n in (1, 2, 3)}
    assert "0 unconfirmed" in capsys.readouterr().out


def test_pillpal_sim_splits_many_boxes_over_processes(broker, monkeypatch):
    monkeypatch.setattr("pillpal_tools.sim.PER_PROCESS", 2)  # 5 boxes: processes of 2, 2 and 1
    prefix, events = run_sim(broker, ["--count", "5", "--total", "10"], 10)
    assert len(events) == 10
    assert {item["device_id"] for item in events} == {f"{prefix}{n}" for n in range(1, 6)}
