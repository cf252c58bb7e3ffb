"""The catalogue of every event type on the bus, with the schema of its subject and data.

An event type names what happened, past tense: `<aggregate>.<what>`. Its topic is derived from it
(see `envelope.topic_for`), never retyped by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, fields, validate

DEVICE_ID = validate.Regexp(r"^[A-Za-z0-9_.:-]{1,64}$", error="Not a valid device id.")
HHMM = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="Not a zero-padded 24-hour HH:MM time.")
REPEAT_TYPES = ("once", "daily", "weekly", "custom", "interval")


class Open(Schema):
    """Event schemas ignore fields they do not know, so producers can add fields without breaking consumers."""

    class Meta:
        unknown = EXCLUDE


class Empty(Open):
    pass


# --- subjects ---------------------------------------------------------------------------------


class UserSubject(Open):
    user_id = fields.Integer(required=True, strict=True)


class MedicationSubject(UserSubject):
    med_id = fields.Integer(required=True, strict=True)


class DeviceSubject(Open):
    device_id = fields.String(required=True, validate=DEVICE_ID)
    user_id = fields.Integer(required=True, strict=True, allow_none=True)


class PairingSubject(Open):
    device_id = fields.String(required=True, validate=DEVICE_ID)
    user_id = fields.Integer(required=True, strict=True)


class DoseSubject(MedicationSubject):
    instance_id = fields.Integer(required=True, strict=True)


# --- data -------------------------------------------------------------------------------------


class UserUpdated(Open):
    email = fields.String(required=True)
    full_name = fields.String(required=True, allow_none=True)
    timezone = fields.String(required=True)


class Schedule(Open):
    repeat_type = fields.String(required=True, validate=validate.OneOf(REPEAT_TYPES))
    day_mask = fields.String(required=True, allow_none=True, validate=validate.Regexp(r"^[01]{7}$"))
    interval_days = fields.Integer(load_default=None, allow_none=True)
    times = fields.List(fields.String(validate=HHMM), required=True, validate=validate.Length(min=1, max=4))
    custom_start = fields.Date(required=True, allow_none=True)
    custom_end = fields.Date(required=True, allow_none=True)
    lead_minutes = fields.Integer(required=True, validate=validate.Range(0, 120))


class MedicationUpserted(Open):
    revision = fields.Integer(required=True, strict=True)
    name = fields.String(required=True)
    notes = fields.String(required=True, allow_none=True)
    active_start_date = fields.Date(required=True, allow_none=True)
    active_end_date = fields.Date(required=True, allow_none=True)
    schedule = fields.Nested(Schedule, required=True)


class MedicationDeleted(Open):
    revision = fields.Integer(load_default=None, allow_none=True)


class DeviceEvent(Open):
    """A box's dose event, normalised. `occurred_at` of the envelope is the box's time (or the receive
    time when the box's clock is absurd, with clock_skew set)."""

    raw_event = fields.String(required=True)
    form = fields.String(required=True, validate=validate.OneOf(("A", "B", "device")))
    received_at = fields.AwareDateTime(required=True)
    clock_skew = fields.Boolean(required=True)
    seq = fields.Integer(load_default=None, allow_none=True)
    box_time = fields.String(load_default=None, allow_none=True)  # the box's own timestamp, as it sent it


class DeviceStatus(Open):
    online = fields.Boolean(required=True)
    last_seen = fields.AwareDateTime(required=True)


class Pairing(Open):
    at = fields.AwareDateTime(required=True)


class SettingsUpdated(Open):
    sound = fields.Boolean(required=True)
    vibration = fields.Boolean(required=True)
    led = fields.Boolean(required=True)


class DoseDue(Open):
    med_name = fields.String(required=True)
    scheduled_at = fields.AwareDateTime(required=True)
    due_at = fields.AwareDateTime(required=True)


class DoseTaken(Open):
    scheduled_at = fields.AwareDateTime(required=True)
    taken_at = fields.AwareDateTime(required=True)
    source = fields.String(required=True, validate=validate.OneOf(("device", "app")))


class DoseMissed(Open):
    scheduled_at = fields.AwareDateTime(required=True)


class DoseSnoozed(Open):
    scheduled_at = fields.AwareDateTime(required=True)
    until = fields.AwareDateTime(required=True)


class DoseClosed(Open):
    scheduled_at = fields.AwareDateTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("taken", "missed", "cancelled")))


class Rejected(Open):
    topic = fields.String(required=True)
    reason = fields.String(required=True)
    payload = fields.String(required=True)
    payload_encoding = fields.String(required=True, validate=validate.OneOf(("utf-8", "base64")))
    payload_size = fields.Integer(required=True)
    consumer = fields.String(required=True)


@dataclass(frozen=True)
class EventType:
    name: str
    id_key: str  # the subject field that names the aggregate in the topic
    subject: type[Schema]
    data: type[Schema]


def _types(*items: EventType) -> dict[str, EventType]:
    return {item.name: item for item in items}


CATALOGUE: dict[str, EventType] = _types(
    EventType("user.updated", "user_id", UserSubject, UserUpdated),
    EventType("user.deleted", "user_id", UserSubject, Empty),
    EventType("medication.upserted", "med_id", MedicationSubject, MedicationUpserted),
    EventType("medication.deleted", "med_id", MedicationSubject, MedicationDeleted),
    EventType("device.pill_taken", "device_id", DeviceSubject, DeviceEvent),
    EventType("device.alert_started", "device_id", DeviceSubject, DeviceEvent),
    EventType("device.status_changed", "device_id", DeviceSubject, DeviceStatus),
    EventType("pairing.created", "device_id", PairingSubject, Pairing),
    EventType("pairing.removed", "device_id", PairingSubject, Pairing),
    EventType("settings.updated", "user_id", UserSubject, SettingsUpdated),
    EventType("dose.due", "instance_id", DoseSubject, DoseDue),
    EventType("dose.taken", "instance_id", DoseSubject, DoseTaken),
    EventType("dose.missed", "instance_id", DoseSubject, DoseMissed),
    EventType("dose.snoozed", "instance_id", DoseSubject, DoseSnoozed),
    EventType("dose.closed", "instance_id", DoseSubject, DoseClosed),
    EventType("event.rejected", "", Empty, Rejected),
)

# Compiled once: validation runs on every message, so keep per-message work small.
SUBJECT_SCHEMAS = {name: t.subject() for name, t in CATALOGUE.items()}
DATA_SCHEMAS = {name: t.data() for name, t in CATALOGUE.items()}
