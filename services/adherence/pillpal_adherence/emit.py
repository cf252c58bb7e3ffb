"""The events adherence announces (through its outbox) and the dose_events rows it records.

Envelopes are built here without a schema pass: the shapes are fixed by the code below and every one
the tests produce is parsed against the catalogue (tests/conftest.py), while a marshmallow pass per
event cost a third of the box-event path (two events per dose taken, thousands per second).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from pillpal_shared.envelope import Envelope, rfc3339

from .config import SERVICE


class DoseLike(Protocol):
    instance_id: int
    user_id: int
    med_id: int
    scheduled_at: datetime


def _subject(dose: DoseLike) -> dict[str, int]:
    return {"user_id": dose.user_id, "med_id": dose.med_id, "instance_id": dose.instance_id}


def _event(event_type: str, dose: DoseLike, at: datetime, **data: Any) -> Envelope:
    plain = {k: rfc3339(v) if isinstance(v, datetime) else v for k, v in data.items()}
    return Envelope(str(uuid.uuid4()), event_type, at, datetime.now(UTC), SERVICE, _subject(dose), plain)


def due(dose: DoseLike, med_name: str, due_at: datetime) -> Envelope:
    return _event("dose.due", dose, due_at, med_name=med_name, scheduled_at=dose.scheduled_at, due_at=due_at)


def taken(dose: DoseLike, taken_at: datetime, source: str, closes: bool) -> list[Envelope]:
    events = [_event("dose.taken", dose, taken_at, scheduled_at=dose.scheduled_at, taken_at=taken_at, source=source)]
    return events + ([closed(dose, "taken", taken_at)] if closes else [])


def missed(dose: DoseLike, at: datetime, closes: bool) -> list[Envelope]:
    events = [_event("dose.missed", dose, at, scheduled_at=dose.scheduled_at)]
    return events + ([closed(dose, "missed", at)] if closes else [])


def snoozed(dose: DoseLike, until: datetime, at: datetime) -> Envelope:
    return _event("dose.snoozed", dose, at, scheduled_at=dose.scheduled_at, until=until)


def closed(dose: DoseLike, status: str, at: datetime) -> Envelope:
    return _event("dose.closed", dose, at, scheduled_at=dose.scheduled_at, status=status)


def dose_event(
    event_type: str,
    source: str,
    occurred_at: datetime,
    now: datetime,
    *,
    instance_id: int | None = None,
    user_id: int | None = None,
    device_id: str | None = None,
    event_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A dose_events row (for a bulk insert). event_type: alert_started, ack_taken, snooze, miss, cancel."""
    return {
        "event_id": event_id or uuid.uuid4().hex,
        "instance_id": instance_id,
        "user_id": user_id,
        "device_id": device_id,
        "event_type": event_type,
        "source": source,
        "occurred_at": occurred_at,
        "created_at": now,
        "meta": json.dumps(meta, separators=(",", ":")) if meta else None,
    }
