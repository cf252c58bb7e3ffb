"""What a box said, read from one raw MQTT message (pure logic): every form of CONTRACTS.md section 2.

`read(topic, payload)` returns a `Reading`, None for a message that is not the boxes' (our own
commands, a retained status being cleared), or raises `Rejected` with a reason for the dead-letter
topic. The reason starts with its kind ("not JSON: ...") so the rejected counter can label by kind.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from pillpal_shared.envelope import parse_time

MAX_PAYLOAD = 64 * 1024
DEVICE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# Box events and the catalogue type each becomes; None: it only updates the box's state.
EVENTS: dict[str, str | None] = {
    "pill_taken": "device.pill_taken",
    "lid_opened": "device.pill_taken",
    "alert_started": "device.alert_started",
    "lid_closed": None,
    "battery": None,
    "heartbeat": None,
}
STATUS = {"online": True, "offline": False}


class Rejected(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Reading:
    device_id: str
    form: str  # "A", "B", "device", "telemetry" or "status"
    event: str | None = None  # the box's own event name
    box_time: datetime | None = None
    box_time_text: str | None = None
    seq: int | None = None
    online: bool | None = None  # from a status message
    battery_percent: int | None = None
    rssi: int | None = None
    fw_version: str | None = None

    @property
    def event_type(self) -> str | None:
        return EVENTS.get(self.event) if self.event else None


def read(topic: str, payload: bytes) -> Reading | None:
    parts = topic.split("/")
    if len(parts) not in (3, 4) or parts[0] != "pillpal" or parts[1] != "device":
        raise Rejected(f"unknown topic: {topic[:100]}")
    if parts[-1] == "commands":
        return None  # our own commands to the boxes, seen through the wildcard
    if len(payload) > MAX_PAYLOAD:
        raise Rejected(f"too large: {len(payload)} bytes (limit {MAX_PAYLOAD})")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected("not UTF-8") from None
    if len(parts) == 3:
        if parts[2] == "events":  # form B: one topic for every box, the id in the payload
            body = _object(text)
            return _event(_device_id(_field(body, "device_id", (str, int))), "B", body, "event_type")
        device_id = _device_id(parts[2])  # form A: the seed's pillpal/device/<device_id>
        body = _object(text)
        claimed = body.get("device_id")
        if claimed is not None and str(claimed) != device_id:
            raise Rejected(f"device id mismatch: topic says {device_id}, payload says {str(claimed)[:64]}")
        return _event(device_id, "A", body, "event")
    device_id, kind = _device_id(parts[2]), parts[3]
    if kind == "events":
        return _event(device_id, "device", _object(text), "event")
    if kind == "telemetry":
        reading = Reading(device_id, "telemetry", **_telemetry(_object(text)))
        if reading.battery_percent is None and reading.rssi is None and reading.fw_version is None:
            raise Rejected("missing field: telemetry carries none of battery_percent, rssi, fw_version")
        return reading
    if kind == "status":
        word = text.strip().strip('"').lower()
        if not word:
            return None  # a retained status being cleared
        if word not in STATUS:
            raise Rejected(f"unknown status: {word[:32]!r}")
        return Reading(device_id, "status", online=STATUS[word])
    raise Rejected(f"unknown topic: {topic[:100]}")


def _object(text: str) -> dict:  # type: ignore[type-arg]
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise Rejected(f"not JSON: {exc}") from None
    except RecursionError:
        raise Rejected("not JSON: nested too deeply") from None
    if not isinstance(body, dict):
        raise Rejected(f"not a JSON object: got {type(body).__name__}")
    return body


def _field(body: dict, name: str, types: tuple[type, ...]) -> object:  # type: ignore[type-arg]
    value = body.get(name)
    if value is None:
        raise Rejected(f"missing field: {name}")
    if not isinstance(value, types) or isinstance(value, bool):
        raise Rejected(f"mistyped field: {name} is {type(value).__name__}")
    return value


def _device_id(value: object) -> str:
    text = str(value)
    if not DEVICE_ID.match(text):
        raise Rejected(f"bad device id: {text[:80]!r}")
    return text


def _event(device_id: str, form: str, body: dict, key: str) -> Reading:  # type: ignore[type-arg]
    event = _field(body, key, (str,))
    if event not in EVENTS:
        raise Rejected(f"unknown event: {str(event)[:40]!r}")
    stamp = _field(body, "timestamp", (str,))
    assert isinstance(stamp, str)
    try:
        box_time = parse_time(stamp) if len(stamp) <= 64 else None
    except (ValueError, OverflowError) as exc:
        raise Rejected(f"bad timestamp: {stamp[:64]!r} ({exc})") from None
    if box_time is None:
        raise Rejected("bad timestamp: longer than 64 characters")
    seq = body.get("seq")
    if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**63):
        raise Rejected("mistyped field: seq must be a non-negative integer")
    telemetry = _telemetry(body)
    if event == "battery" and telemetry.get("battery_percent") is None:
        raise Rejected("missing field: a battery event needs battery_percent")
    return Reading(device_id, form, str(event), box_time, stamp, seq, **telemetry)


def _telemetry(body: dict) -> dict[str, object]:  # type: ignore[type-arg]
    found: dict[str, object] = {}
    battery = body.get("battery_percent", body.get("battery"))
    if battery is not None:
        if not isinstance(battery, (int, float)) or isinstance(battery, bool) or not 0 <= battery <= 100:
            raise Rejected("mistyped field: battery_percent must be a number from 0 to 100")
        found["battery_percent"] = round(battery)
    rssi = body.get("rssi")
    if rssi is not None:
        if not isinstance(rssi, int) or isinstance(rssi, bool) or not -150 <= rssi <= 50:
            raise Rejected("mistyped field: rssi must be a whole number of dBm")
        found["rssi"] = rssi
    fw = body.get("fw_version")
    if fw is not None:
        if not isinstance(fw, str) or not 0 < len(fw) <= 32:
            raise Rejected("mistyped field: fw_version must be text of up to 32 characters")
        found["fw_version"] = fw
    return found
