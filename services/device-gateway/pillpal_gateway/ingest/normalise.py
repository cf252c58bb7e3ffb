"""The canonical event a box's dose reading becomes, on `pillpal/events/device/<device_id>/<type>`
(pure logic): its derived id, its time, its owner."""

from __future__ import annotations

from datetime import datetime, timedelta

from pillpal_shared.envelope import Envelope, derived_id, new_event, rfc3339

from .reading import Reading

MAX_SKEW = timedelta(days=1)
SOURCE = "device-gateway"


def occurred(box_time: datetime, received_at: datetime) -> tuple[datetime, bool]:
    """The box's time, or the receive time (and True) when the box's clock is more than a day off."""
    if abs(box_time - received_at) > MAX_SKEW:
        return received_at, True
    return box_time, False


def event_id(reading: Reading) -> str:
    """Stable across resends: the box, its event, its own timestamp (and seq when it sends one)."""
    assert reading.box_time is not None
    parts: list[object] = [reading.device_id, reading.event, rfc3339(reading.box_time)]
    if reading.seq is not None:
        parts.append(reading.seq)
    return derived_id(*parts)


def to_envelope(reading: Reading, user_id: int, received_at: datetime) -> Envelope:
    assert reading.event_type is not None and reading.box_time is not None
    occurred_at, skew = occurred(reading.box_time, received_at)
    data = {
        "raw_event": reading.event,
        "form": reading.form,
        "received_at": rfc3339(received_at),
        "clock_skew": skew,
        "seq": reading.seq,
        "box_time": reading.box_time_text,
    }
    subject = {"device_id": reading.device_id, "user_id": user_id}
    # Every field above was checked by `read`; the tests prove the result passes parse_envelope, so the
    # schema check is skipped on this hot path.
    return new_event(
        reading.event_type,
        subject,
        data,
        source=SOURCE,
        occurred_at=occurred_at,
        event_id=event_id(reading),
        validate=False,
    )
