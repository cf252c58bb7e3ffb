"""The simulated box's protocol and state, without a broker."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pillpal_tools.box import SimulatedBox
from pillpal_tools.sim import load_credentials

BROKER = "mqtt://127.0.0.1:1"
FIXED = datetime(2025, 12, 12, 21, 47, 27, 123456, tzinfo=UTC)


def box(form="B", **kwargs):
    return SimulatedBox("1", BROKER, form=form, clock=lambda: FIXED, **kwargs)


def test_form_b_is_the_shipped_firmwares_payload():
    topic, payload = box().payload("lid_opened")
    assert topic == "pillpal/device/events"
    assert json.loads(payload) == {
        "device_id": "1",
        "event_type": "lid_opened",
        "source": "device",
        "timestamp": "2025-12-12T21:47:27.123456+00:00",
    }


def test_a_box_clock_in_another_zone_is_sent_as_utc_with_microseconds():
    local = datetime(2025, 12, 12, 22, 47, 27, tzinfo=timezone(timedelta(hours=1)))
    _, payload = SimulatedBox("7", BROKER, clock=lambda: local).payload("lid_closed")
    assert json.loads(payload)["timestamp"] == "2025-12-12T21:47:27.000000+00:00"


def test_form_a_is_the_seed_documents_payload():
    topic, payload = box("A").payload("pill_taken")
    assert topic == "pillpal/device/1"
    stamp = "2025-12-12T21:47:27.123456+00:00"
    assert json.loads(payload) == {"device_id": "1", "event": "pill_taken", "timestamp": stamp}


def test_per_device_form_numbers_its_events():
    device = box("device")
    first = json.loads(device.payload("lid_opened")[1])
    topic, second = device.payload("lid_closed")
    assert topic == "pillpal/device/1/events"
    assert (first["seq"], json.loads(second)["seq"]) == (1, 2)
    assert first == {"event": "lid_opened", "timestamp": "2025-12-12T21:47:27.123456+00:00", "seq": 1}


def test_preferences_follow_the_set_pref_commands():
    device = box()
    assert device.preferences == {"led": True, "sound": True, "vibration": True}
    for command in ("SET_PREF_LED_OFF", "SET_PREF_SOUND_OFF\n", "SET_PREF_VIB_OFF", "SET_PREF_SOUND_ON"):
        device.handle_command(command)
    assert device.preferences == {"led": False, "sound": True, "vibration": False}


def test_an_alert_starts_once_and_stops():
    device = box()
    device.handle_command("ALERT_START")
    device.handle_command("ALERT_START")  # legacy mode repeats it on the shared topic
    assert device.alerting and device.alerts == 1
    device.handle_command("ALERT_STOP")
    assert not device.alerting
    device.handle_command("ALERT_START")
    assert device.alerts == 2


def test_unknown_commands_are_kept_and_change_nothing():
    device = box()
    for command in ("REBOOT", "SET_PREF_FAN_ON", "SET_PREF_LED_MAYBE", "", '{"cmd": 1}'):
        device.handle_command(command)
    assert device.preferences == {"led": True, "sound": True, "vibration": True} and not device.alerting
    assert device.commands == ["REBOOT", "SET_PREF_FAN_ON", "SET_PREF_LED_MAYBE", "", '{"cmd": 1}']


def test_form_b_listens_on_the_shared_command_topic_by_default():
    assert box().listen_shared and not box("device").listen_shared
    assert not box(listen_shared=False).listen_shared


def test_unknown_form_is_refused():
    with pytest.raises(ValueError, match="form"):
        box("C")


def test_credentials_file_takes_plain_lines_and_json(tmp_path):
    path = tmp_path / "boxes.txt"
    path.write_text('# boxes\nbox-1 s3cret\n\n{"device_id": "box-2", "mqtt_password": "p w", "pairing_code": "X"}\n')
    assert load_credentials(path) == {"box-1": "s3cret", "box-2": "p w"}
