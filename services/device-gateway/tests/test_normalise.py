"""The reading and normalising of box messages: pure logic, every form of CONTRACTS.md section 2."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from pillpal_gateway.ingest.normalise import event_id, occurred, to_envelope
from pillpal_gateway.ingest.reading import Rejected, read
from pillpal_shared.envelope import parse_envelope

from .corpus import CORPUS, NEEDS_DATABASE

RECEIVED = datetime(2026, 12, 4, 8, 0, 5, tzinfo=UTC)


def j(**fields):
    return json.dumps(fields).encode()


def test_form_a_the_seed_example():
    reading = read(
        "pillpal/device/PILLPAL-001",
        j(device_id="PILLPAL-001", event="pill_taken", timestamp="2025-11-07T08:00:00Z"),
    )
    assert (reading.device_id, reading.form, reading.event) == ("PILLPAL-001", "A", "pill_taken")
    assert reading.event_type == "device.pill_taken"
    assert reading.box_time == datetime(2025, 11, 7, 8, tzinfo=UTC)


def test_form_a_may_carry_battery_and_omit_its_device_id():
    reading = read("pillpal/device/7", j(event="alert_started", timestamp="2026-12-04T08:00:00+01:00", battery=81.6))
    assert reading.device_id == "7"
    assert reading.event_type == "device.alert_started"
    assert reading.box_time == datetime(2026, 12, 4, 7, tzinfo=UTC)
    assert reading.battery_percent == 82


def test_form_b_the_shipped_firmware():
    payload = j(device_id="1", event_type="lid_opened", source="device", timestamp="2025-12-12T21:47:27.123456+00:00")
    reading = read("pillpal/device/events", payload)
    assert (reading.device_id, reading.form, reading.event_type) == ("1", "B", "device.pill_taken")
    assert reading.box_time == datetime(2025, 12, 12, 21, 47, 27, 123456, tzinfo=UTC)


def test_form_b_numeric_device_id_is_read_as_text():
    reading = read("pillpal/device/events", j(device_id=12, event_type="lid_closed", timestamp="2026-12-04T08:00:00Z"))
    assert reading.device_id == "12"
    assert reading.event_type is None  # lid_closed only updates state


def test_per_device_form_with_seq():
    reading = read("pillpal/device/box-1/events", j(event="pill_taken", timestamp="2026-12-04T08:00:00Z", seq=41))
    assert (reading.device_id, reading.form, reading.seq) == ("box-1", "device", 41)


@pytest.mark.parametrize("event", ["lid_closed", "heartbeat"])
def test_state_only_events(event):
    assert read("pillpal/device/box-1/events", j(event=event, timestamp="2026-12-04T08:00:00Z")).event_type is None


def test_telemetry_and_status():
    telemetry = read("pillpal/device/box-1/telemetry", j(battery_percent=55, rssi=-67, fw_version="2.1.0"))
    assert (telemetry.battery_percent, telemetry.rssi, telemetry.fw_version) == (55, -67, "2.1.0")
    assert read("pillpal/device/box-1/status", b"online").online is True
    assert read("pillpal/device/box-1/status", b"offline\n").online is False
    assert read("pillpal/device/box-1/status", b"") is None  # a retained status being cleared


def test_own_commands_are_not_box_messages():
    assert read("pillpal/device/commands", b"ALERT_START") is None
    assert read("pillpal/device/box-1/commands", b"ALERT_STOP") is None


@pytest.mark.parametrize("topic", ["pillpal/device/box-1/config", "pillpal/other/box-1", "pillpal/device/a/b/c"])
def test_unknown_topics(topic):
    with pytest.raises(Rejected, match="unknown topic"):
        read(topic, b"{}")


@pytest.mark.parametrize(
    ("name", "topic", "payload", "reason"),
    [c for c in CORPUS if c[0] not in NEEDS_DATABASE],
    ids=[c[0] for c in CORPUS if c[0] not in NEEDS_DATABASE],
)
def test_bad_messages_are_rejected_with_their_reason(name, topic, payload, reason):
    with pytest.raises(Rejected) as caught:
        read(topic, payload)
    assert caught.value.reason.startswith(reason), caught.value.reason


def test_corpus_has_at_least_thirty_kinds():
    assert len({name for name, *_ in CORPUS}) >= 30


def test_the_box_time_is_believed_within_a_day():
    box = RECEIVED - timedelta(hours=23)
    assert occurred(box, RECEIVED) == (box, False)
    assert occurred(RECEIVED - timedelta(days=2), RECEIVED) == (RECEIVED, True)
    assert occurred(RECEIVED + timedelta(days=400), RECEIVED) == (RECEIVED, True)


def test_a_resend_gets_the_same_id_whatever_the_timestamp_spelling():
    first = read("pillpal/device/box-1/events", j(event="pill_taken", timestamp="2026-12-04T08:00:00Z"))
    again = read("pillpal/device/box-1/events", j(event="pill_taken", timestamp="2026-12-04T09:00:00.000+01:00"))
    other = read("pillpal/device/box-1/events", j(event="pill_taken", timestamp="2026-12-04T08:00:01Z"))
    with_seq = read("pillpal/device/box-1/events", j(event="pill_taken", timestamp="2026-12-04T08:00:00Z", seq=2))
    assert event_id(first) == event_id(again)
    assert len({event_id(first), event_id(other), event_id(with_seq)}) == 3


def test_the_envelope_is_valid_and_carries_the_owner():
    reading = read("pillpal/device/events", j(device_id="1", event_type="lid_opened", timestamp="2026-12-04T08:00:00Z"))
    envelope = to_envelope(reading, 42, RECEIVED)
    assert envelope.topic == "pillpal/events/device/1/pill_taken"
    parsed = parse_envelope(envelope.to_json())
    assert parsed.subject == {"device_id": "1", "user_id": 42}
    assert parsed.occurred_at == datetime(2026, 12, 4, 8, tzinfo=UTC)
    assert parsed.data["raw_event"] == "lid_opened" and parsed.data["form"] == "B"
    assert parsed.data["clock_skew"] is False and parsed.data["box_time"] == "2026-12-04T08:00:00Z"


@pytest.mark.parametrize(
    ("topic", "body"),
    [
        (
            "pillpal/device/PILLPAL-001",
            {"device_id": "PILLPAL-001", "event": "pill_taken", "timestamp": "2025-11-07T08:00:00Z"},
        ),
        (
            "pillpal/device/events",
            {"device_id": 3, "event_type": "lid_opened", "timestamp": "2026-12-04T08:00:00.5+02:00"},
        ),
        ("pillpal/device/b.1:x_y-z/events", {"event": "alert_started", "timestamp": "2026-12-04T08:00:00Z", "seq": 0}),
        ("pillpal/device/box-1/events", {"event": "pill_taken", "timestamp": "9999-12-31T23:59:59Z", "battery": 5}),
    ],
)
def test_every_normalised_envelope_passes_the_catalogue(topic, body):
    """The normaliser skips the schema check on its hot path; this is what allows it."""
    envelope = to_envelope(read(topic, json.dumps(body).encode()), 7, RECEIVED)
    assert parse_envelope(envelope.to_json()).to_dict() == envelope.to_dict()


def test_an_absurd_box_clock_is_replaced_and_flagged():
    reading = read("pillpal/device/box-1/events", j(event="alert_started", timestamp="1970-01-01T00:00:00Z"))
    envelope = to_envelope(reading, 1, RECEIVED)
    assert envelope.occurred_at == RECEIVED
    assert envelope.data["clock_skew"] is True
    assert envelope.id == event_id(reading)  # still derived from the box's own time
