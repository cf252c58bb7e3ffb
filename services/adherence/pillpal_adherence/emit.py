"""The events adherence announces (through its outbox) and the dose_events rows it records."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Protocol

from pillpal_shared.envelope import Envelope, new_event

from .config import SERVICE


class DoseLike(Protocol):
    instance_id: int
    user_id: int
    med_id: int
    scheduled_at: datetime


def _subject(dose: DoseLike) -> dict[str, int]:
    return {"user_id": dose.user_id, "med_id": dose.med_id, "instance_id": dose.instance_id}


def due(dose: DoseLike, med_name: str, due_at: datetime) -> Envelope:
    data = {"med_name": med_name, "scheduled_at": dose.scheduled_at, "due_at": due_at}
    return new_event("dose.due", _subject(dose), data, source=SERVICE, occurred_at=due_at)


def taken(dose: DoseLike, taken_at: datetime, source: str, closes: bool) -> list[Envelope]:
    data = {"scheduled_at": dose.scheduled_at, "taken_at": taken_at, "source": source}
    events = [new_event("dose.taken", _subject(dose), data, source=SERVICE, occurred_at=taken_at)]
    return events + ([closed(dose, "taken", taken_at)] if closes else [])


def missed(dose: DoseLike, at: datetime, closes: bool) -> list[Envelope]:
    events = [
        new_event("dose.missed", _subject(dose), {"scheduled_at": dose.scheduled_at}, source=SERVICE, occurred_at=at)
    ]
    return events + ([closed(dose, "missed", at)] if closes else [])


def snoozed(dose: DoseLike, until: datetime, at: datetime) -> Envelope:
    data = {"scheduled_at": dose.scheduled_at, "until": until}
    return new_event("dose.snoozed", _subject(dose), data, source=SERVICE, occurred_at=at)


def closed(dose: DoseLike, status: str, at: datetime) -> Envelope:
    data = {"scheduled_at": dose.scheduled_at, "status": status}
    return new_event("dose.closed", _subject(dose), data, source=SERVICE, occurred_at=at)


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
