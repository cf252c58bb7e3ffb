"""The one JSON envelope every service event travels in, and the topic each type lives on."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .events import CATALOGUE, DATA_SCHEMAS, SUBJECT_SCHEMAS

EVENTS_ROOT = "pillpal/events"
REJECTED_TOPIC = f"{EVENTS_ROOT}/rejected"
VERSION = 1
_NAMESPACE = uuid.UUID("5b0f3c8e-3f0a-4c53-9a43-2d3c6f1f7a10")


class InvalidEvent(ValueError):
    """A message that is not a valid envelope; `reason` says why, for the dead-letter topic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    """ISO 8601 with Z or an offset, with or without fractions; always returned in UTC."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    return moment.astimezone(UTC)


def derived_id(*parts: object) -> str:
    """A stable id from its parts: a resend of the same thing gets the same id."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(str(p) for p in parts)))


def topic_for(event_type: str, subject: dict[str, Any]) -> str:
    if event_type == "event.rejected":
        return REJECTED_TOPIC
    kind = CATALOGUE[event_type]
    aggregate, _, what = event_type.partition(".")
    return f"{EVENTS_ROOT}/{aggregate}/{subject[kind.id_key]}/{what}"


def subscription_for(event_type: str) -> str:
    """The topic filter that receives every event of one type."""
    aggregate, _, what = event_type.partition(".")
    return f"{EVENTS_ROOT}/{aggregate}/+/{what}"


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    occurred_at: datetime
    emitted_at: datetime
    source: str
    subject: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    v: int = VERSION

    @property
    def topic(self) -> str:
        return topic_for(self.type, self.subject)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "v": self.v,
            "occurred_at": rfc3339(self.occurred_at),
            "emitted_at": rfc3339(self.emitted_at),
            "source": self.source,
            "subject": self.subject,
            "data": self.data,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), default=_json_default).encode()

    def load_data(self) -> dict[str, Any]:
        """The data deserialised by its schema (dates as date objects, times as datetimes)."""
        return DATA_SCHEMAS[self.type].load(self.data)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _check(event_type: str, subject: Any, data: Any) -> None:
    if event_type not in CATALOGUE:
        raise InvalidEvent(f"unknown event type {event_type!r}")
    if not isinstance(subject, dict) or not isinstance(data, dict):
        raise InvalidEvent("subject and data must be JSON objects")
    problems = SUBJECT_SCHEMAS[event_type].validate(subject)
    if problems:
        raise InvalidEvent(f"invalid subject for {event_type}: {problems}")
    problems = DATA_SCHEMAS[event_type].validate(data)
    if problems:
        raise InvalidEvent(f"invalid data for {event_type}: {problems}")


def new_event(
    event_type: str,
    subject: dict[str, Any],
    data: dict[str, Any] | None = None,
    *,
    source: str,
    occurred_at: datetime | None = None,
    event_id: str | None = None,
    validate: bool = True,
) -> Envelope:
    """Builds and validates an envelope. Data values may be dates/datetimes; they are stored as text.

    `validate=False` skips the schema check (the type must still be catalogued): only for a hot path whose
    own tests prove that what it builds passes `parse_envelope` (the device gateway's normaliser)."""
    now = datetime.now(UTC)
    plain = json.loads(json.dumps(data or {}, default=_json_default))
    if validate:
        _check(event_type, subject, plain)
    elif event_type not in CATALOGUE:
        raise InvalidEvent(f"unknown event type {event_type!r}")
    return Envelope(
        id=event_id or str(uuid.uuid4()),
        type=event_type,
        occurred_at=occurred_at or now,
        emitted_at=now,
        source=source,
        subject=dict(subject),
        data=plain,
    )


def parse_envelope(payload: bytes) -> Envelope:
    """Parses and validates an envelope; raises InvalidEvent with a reason on anything wrong."""
    try:
        raw = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("envelope must be a JSON object")
    missing = [k for k in ("id", "type", "v", "occurred_at", "emitted_at", "source", "subject", "data") if k not in raw]
    if missing:
        raise InvalidEvent(f"envelope is missing {', '.join(missing)}")
    if raw["v"] != VERSION:
        raise InvalidEvent(f"unsupported envelope version {raw['v']!r}")
    if not isinstance(raw["id"], str) or not 0 < len(raw["id"]) <= 64:
        raise InvalidEvent("envelope id must be a string of 1 to 64 characters")
    if not isinstance(raw["source"], str) or not isinstance(raw["type"], str):
        raise InvalidEvent("type and source must be strings")
    _check(raw["type"], raw["subject"], raw["data"])
    try:
        occurred_at = parse_time(raw["occurred_at"])
        emitted_at = parse_time(raw["emitted_at"])
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidEvent(f"bad timestamp: {exc}") from None
    return Envelope(
        id=raw["id"],
        type=raw["type"],
        occurred_at=occurred_at,
        emitted_at=emitted_at,
        source=raw["source"],
        subject=raw["subject"],
        data=raw["data"],
    )
