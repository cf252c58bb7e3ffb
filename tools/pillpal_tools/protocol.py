"""The wire protocol of the boxes in the field (CONTRACTS.md section 2), as pure functions.

Forms:
- "B", the shipped firmware: events on the shared `pillpal/device/events`, the id inside the payload,
  `{"device_id": "1", "event_type": "lid_opened", "source": "device", "timestamp": "...+00:00"}`;
  commands on `pillpal/device/<id>/commands` and the shared `pillpal/device/commands`.
- "A", the seed document: `{"device_id", "event": "pill_taken", "timestamp"}` on `pillpal/device/<id>`.
- "device", the per-device form for boxes with credentials: `{"event", "timestamp", "seq"}` on
  `pillpal/device/<id>/events`, telemetry on `.../telemetry`, a retained `online`/`offline` on `.../status`.

Commands are plain UTF-8 text: ALERT_START, ALERT_STOP, SET_PREF_{SOUND,VIB,LED}_{ON,OFF}.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

FORMS = ("B", "A", "device")
SHARED_COMMANDS = "pillpal/device/commands"
PREFERENCES = {"LED": "led", "SOUND": "sound", "VIB": "vibration"}


def device_topic(device_id: str, kind: str) -> str:
    return f"pillpal/device/{device_id}/{kind}"


def box_timestamp(now: datetime) -> str:
    """As the firmware writes it: UTC, microseconds, `+00:00`."""
    return now.astimezone(UTC).isoformat(timespec="microseconds")


def event_message(form: str, device_id: str, event: str, stamp: str, seq: int, **extra: Any) -> tuple[str, bytes]:
    """The topic and payload of one box event in `form` (`seq` is used by the per-device form only)."""
    if form == "B":
        body = {"device_id": device_id, "event_type": event, "source": "device", "timestamp": stamp}
        return "pillpal/device/events", json.dumps({**body, **extra}).encode()
    if form == "A":
        body = {"device_id": device_id, "event": event, "timestamp": stamp}
        return f"pillpal/device/{device_id}", json.dumps({**body, **extra}).encode()
    if form == "device":
        body = {"event": event, "timestamp": stamp, "seq": seq}
        return device_topic(device_id, "events"), json.dumps({**body, **extra}).encode()
    raise ValueError(f"form must be one of {', '.join(FORMS)}, got {form!r}")


def command_topics(device_id: str, listen_shared: bool) -> list[str]:
    return [device_topic(device_id, "commands")] + ([SHARED_COMMANDS] if listen_shared else [])


def preference_change(command: str) -> tuple[str, bool] | None:
    """("led", False) for SET_PREF_LED_OFF; None for anything that is not a preference command."""
    word, _, value = command.removeprefix("SET_PREF_").rpartition("_")
    if not command.startswith("SET_PREF_") or word not in PREFERENCES or value not in ("ON", "OFF"):
        return None
    return PREFERENCES[word], value == "ON"
