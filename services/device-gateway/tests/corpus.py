"""Box messages the gateway cannot understand, one per kind of mistake: (name, topic, payload, reason).

`reason` is how the dead letter's reason starts. Each names a mistake a box (or anything able to
publish on its topics) could make; none may stop the ingest."""

import json
import uuid
from datetime import UTC, datetime, timedelta

BOX = f"corpus-{uuid.uuid4().hex[:8]}"  # registered and paired by the integration test
ORPHAN = f"orphan-{uuid.uuid4().hex[:8]}"  # registered, never paired
T_EVENTS = f"pillpal/device/{BOX}/events"
T_TELEMETRY = f"pillpal/device/{BOX}/telemetry"
T_STATUS = f"pillpal/device/{BOX}/status"
T_FORM_A = f"pillpal/device/{BOX}"
T_FORM_B = "pillpal/device/events"
STAMP = "2026-12-04T08:00:00Z"
# Within a day of now (so the box's clock is believed) but before the test pairs the box.
BEFORE_PAIRING = (datetime.now(UTC) - timedelta(hours=12)).isoformat()


def j(**fields):
    return json.dumps(fields).encode()


CORPUS = [
    ("invalid utf-8", T_EVENTS, b"\xff\xfe\xfd", "not UTF-8"),
    ("utf-8 surrogate bytes", T_FORM_B, b'{"device_id": "\xed\xa0\x80"}', "not UTF-8"),
    ("plain text", T_EVENTS, b"pill_taken", "not JSON"),
    ("truncated json", T_EVENTS, b'{"event": "pill_taken", "timestamp": ', "not JSON"),
    ("empty payload", T_EVENTS, b"", "not JSON"),
    ("nested too deeply", T_EVENTS, b"[" * 30000 + b"]" * 30000, "not JSON"),
    ("json array", T_EVENTS, b'["pill_taken", "2026-12-04T08:00:00Z"]', "not a JSON object"),
    ("json string", T_FORM_A, b'"pill_taken"', "not a JSON object"),
    ("json number", T_FORM_B, b"42", "not a JSON object"),
    ("json null", T_EVENTS, b"null", "not a JSON object"),
    ("over 64 KiB", T_EVENTS, j(event="pill_taken", timestamp=STAMP, pad="x" * 70000), "too large"),
    ("missing event", T_EVENTS, j(timestamp=STAMP), "missing field: event"),
    ("null event", T_EVENTS, j(event=None, timestamp=STAMP), "missing field: event"),
    ("event is a number", T_EVENTS, j(event=1, timestamp=STAMP), "mistyped field: event"),
    ("unknown event", T_EVENTS, j(event="pill_eaten", timestamp=STAMP), "unknown event"),
    ("event in the wrong case", T_EVENTS, j(event="PILL_TAKEN", timestamp=STAMP), "unknown event"),
    ("missing timestamp", T_EVENTS, j(event="pill_taken"), "missing field: timestamp"),
    ("timestamp is a number", T_EVENTS, j(event="pill_taken", timestamp=1733300000), "mistyped field: timestamp"),
    ("timestamp in words", T_EVENTS, j(event="pill_taken", timestamp="yesterday"), "bad timestamp"),
    ("timestamp without zone", T_EVENTS, j(event="pill_taken", timestamp="2026-12-04T08:00:00"), "bad timestamp"),
    ("impossible date", T_EVENTS, j(event="pill_taken", timestamp="2026-13-45T99:00:00Z"), "bad timestamp"),
    ("timestamp out of range", T_EVENTS, j(event="pill_taken", timestamp="0001-01-01T00:00:00+01:00"), "bad timestamp"),
    ("timestamp too long", T_EVENTS, j(event="pill_taken", timestamp=STAMP + "0" * 80), "bad timestamp"),
    ("negative seq", T_EVENTS, j(event="pill_taken", timestamp=STAMP, seq=-1), "mistyped field: seq"),
    ("seq as text", T_EVENTS, j(event="pill_taken", timestamp=STAMP, seq="7"), "mistyped field: seq"),
    ("seq as boolean", T_EVENTS, j(event="pill_taken", timestamp=STAMP, seq=True), "mistyped field: seq"),
    ("seq NaN", T_EVENTS, b'{"event": "pill_taken", "timestamp": "2026-12-04T08:00:00Z", "seq": NaN}', "mistyped"),
    ("form B without device_id", T_FORM_B, j(event_type="lid_opened", timestamp=STAMP), "missing field: device_id"),
    ("form B device_id list", T_FORM_B, j(device_id=[BOX], event_type="lid_opened", timestamp=STAMP), "mistyped"),
    ("form B device_id boolean", T_FORM_B, j(device_id=True, event_type="lid_opened", timestamp=STAMP), "mistyped"),
    (
        "form B bad device id",
        T_FORM_B,
        j(device_id="box 1/../2", event_type="lid_opened", timestamp=STAMP),
        "bad device id",
    ),
    ("form B without event_type", T_FORM_B, j(device_id=BOX, timestamp=STAMP), "missing field: event_type"),
    (
        "form A claims another box",
        T_FORM_A,
        j(device_id="box-2", event="pill_taken", timestamp=STAMP),
        "device id mismatch",
    ),
    ("bad device id in topic", "pillpal/device/b\u00f3x", j(event="pill_taken", timestamp=STAMP), "bad device id"),
    ("battery event without level", T_EVENTS, j(event="battery", timestamp=STAMP), "missing field"),
    ("battery over 100", T_EVENTS, j(event="battery", timestamp=STAMP, battery=150), "mistyped field: battery"),
    ("battery as text", T_TELEMETRY, j(battery_percent="80%"), "mistyped field: battery"),
    ("rssi as a fraction", T_TELEMETRY, j(rssi=-60.5), "mistyped field: rssi"),
    ("fw_version too long", T_TELEMETRY, j(fw_version="1" * 40), "mistyped field: fw_version"),
    ("telemetry with nothing known", T_TELEMETRY, j(temperature=21), "missing field"),
    ("telemetry not an object", T_TELEMETRY, b"[80]", "not a JSON object"),
    ("unknown status", T_STATUS, b"sleeping", "unknown status"),
    (
        "unregistered box",
        "pillpal/device/nobody-has-this-box/events",
        j(event="pill_taken", timestamp=STAMP),
        "unknown device",
    ),
    (
        "registered box nobody owns",
        f"pillpal/device/{ORPHAN}/events",
        j(event="pill_taken", timestamp=STAMP),
        "no owner",
    ),
    (
        "dose event from before the pairing",
        T_EVENTS,
        j(event="pill_taken", timestamp=BEFORE_PAIRING),
        "no owner",
    ),
]

# Rejected before any database lookup: what the pure reader must refuse by itself.
NEEDS_DATABASE = {"unregistered box", "registered box nobody owns", "dose event from before the pairing"}
