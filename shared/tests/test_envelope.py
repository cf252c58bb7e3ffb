from datetime import UTC, date, datetime

import pytest

from pillpal_shared.envelope import (
    REJECTED_TOPIC,
    InvalidEvent,
    derived_id,
    new_event,
    parse_envelope,
    parse_time,
    subscription_for,
    topic_for,
)
from pillpal_shared.events import CATALOGUE


def upserted():
    return new_event(
        "medication.upserted",
        {"med_id": 42, "user_id": 3},
        {
            "revision": 1,
            "name": "Lisinopril",
            "notes": None,
            "active_start_date": date(2026, 12, 4),
            "active_end_date": None,
            "schedule": {
                "repeat_type": "weekly",
                "day_mask": "0110010",
                "times": ["08:00", "20:00"],
                "custom_start": None,
                "custom_end": None,
                "lead_minutes": 5,
            },
        },
        source="meds",
    )


def test_round_trip_and_topic():
    event = upserted()
    assert event.topic == "pillpal/events/medication/42/upserted"
    back = parse_envelope(event.to_json())
    assert back == event.__class__(**{**event.__dict__, "occurred_at": back.occurred_at, "emitted_at": back.emitted_at})
    assert back.load_data()["active_start_date"] == date(2026, 12, 4)


def test_every_catalogued_type_has_a_topic():
    samples = {"user_id": 1, "med_id": 2, "device_id": "box-1", "instance_id": 3}
    for name in CATALOGUE:
        topic = topic_for(name, samples)
        assert topic.startswith("pillpal/events/")
    assert topic_for("event.rejected", {}) == REJECTED_TOPIC
    assert subscription_for("dose.due") == "pillpal/events/dose/+/due"


def test_derived_ids_are_stable():
    assert derived_id("box-1", "pill_taken", "2025-11-07T08:00:00Z") == derived_id(
        "box-1", "pill_taken", "2025-11-07T08:00:00Z"
    )
    assert derived_id("box-1", "pill_taken", "a") != derived_id("box-2", "pill_taken", "a")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"id": "x"}', "missing"),
        (
            b'{"id":"x","type":"nope","v":1,"occurred_at":"2026-01-01T00:00:00Z","emitted_at":"2026-01-01T00:00:00Z",'
            b'"source":"t","subject":{},"data":{}}',
            "unknown event type",
        ),
        (
            b'{"id":"x","type":"user.deleted","v":2,"occurred_at":"2026-01-01T00:00:00Z",'
            b'"emitted_at":"2026-01-01T00:00:00Z","source":"t","subject":{"user_id":1},"data":{}}',
            "version",
        ),
        (
            b'{"id":"x","type":"user.deleted","v":1,"occurred_at":"2026-01-01T00:00:00Z",'
            b'"emitted_at":"2026-01-01T00:00:00Z","source":"t","subject":{"user_id":"1"},"data":{}}',
            "invalid subject",
        ),
        (
            b'{"id":"x","type":"user.deleted","v":1,"occurred_at":"yesterday",'
            b'"emitted_at":"2026-01-01T00:00:00Z","source":"t","subject":{"user_id":1},"data":{}}',
            "timestamp",
        ),
    ],
)
def test_invalid_envelopes_say_why(payload, reason):
    with pytest.raises(InvalidEvent, match=reason):
        parse_envelope(payload)


def test_producers_cannot_emit_invalid_data():
    with pytest.raises(InvalidEvent):
        new_event("settings.updated", {"user_id": 1}, {"sound": "yes"}, source="t")


def test_an_unvalidated_event_must_still_be_catalogued():
    envelope = new_event("settings.updated", {"user_id": 1}, {"sound": True}, source="t", validate=False)
    assert envelope.data == {"sound": True}  # the hot path trusts its caller's own tests
    with pytest.raises(InvalidEvent):
        new_event("settings.renamed", {"user_id": 1}, {}, source="t", validate=False)


def test_parse_time_forms():
    assert parse_time("2025-12-12T21:47:27.123456+00:00") == datetime(2025, 12, 12, 21, 47, 27, 123456, UTC)
    assert parse_time("2025-11-07T08:00:00Z") == datetime(2025, 11, 7, 8, tzinfo=UTC)
    assert parse_time("2025-11-07T09:00:00+01:00") == datetime(2025, 11, 7, 8, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_time("2025-11-07T08:00:00")
