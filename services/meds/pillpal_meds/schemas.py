"""Request bodies: AddMedicationRequest (POST and PUT) and its partial form (PATCH).

Unknown fields are ignored, as the app expects; every problem answers 400 naming its field.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates, validates_schema

from pillpal_shared.events import HHMM
from pillpal_shared.schemas import RequestSchema

from .schedule import REPEAT_TYPES, schedule_problems, times_problems

DAY_MASK = validate.Regexp(r"^[01]{7}$", error="Must be seven 0/1 characters, index 0 = Monday.")


class Trimmed(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class ScheduleSchema(RequestSchema):
    repeat_type = fields.String(
        required=True, validate=validate.OneOf(REPEAT_TYPES, error="Must be one of: once, daily, weekly, custom.")
    )
    day_mask = fields.String(load_default=None, allow_none=True, validate=DAY_MASK)
    times = fields.List(fields.String(validate=HHMM), required=True)
    custom_start = fields.Date(load_default=None, allow_none=True)
    custom_end = fields.Date(load_default=None, allow_none=True)
    lead_minutes = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 120))

    @validates("times")
    def _times(self, value: list[str], **_: object) -> None:
        problems = times_problems(value)
        if problems:
            raise ValidationError(problems)

    @validates_schema(skip_on_field_errors=True)
    def _consistent(self, data: dict[str, Any], **_: object) -> None:
        problems = schedule_problems(data)
        if problems:
            raise ValidationError(problems)


class MedicationSchema(RequestSchema):
    name = Trimmed(required=True, validate=validate.Length(1, 100, error="Must be 1 to 100 characters."))
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    schedule = fields.Nested(ScheduleSchema, required=True)
    # Not sent by the app: absent keeps the stored value (or today in the user's zone, for a new one).
    active_start_date = fields.Date(allow_none=True)
    active_end_date = fields.Date(allow_none=True)

    @validates_schema(skip_on_field_errors=True)
    def _dates(self, data: dict[str, Any], **_: object) -> None:
        first, last = data.get("active_start_date"), data.get("active_end_date")
        if first is not None and last is not None and first > last:
            raise ValidationError({"active_end_date": ["Must not be before active_start_date."]})


class PatchShape(RequestSchema):
    """Only the shape of a PATCH body; the merged result is validated by MedicationSchema."""

    schedule = fields.Dict()
