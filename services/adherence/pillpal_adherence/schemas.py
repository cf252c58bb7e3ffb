from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import fields, validate

from pillpal_shared.schemas import RequestSchema


class DoseUpdateSchema(RequestSchema):
    instance_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    status = fields.String(required=True, validate=validate.OneOf(("taken", "missed")))


class MarkTakenSchema(RequestSchema):
    instance_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class SnoozeSchema(RequestSchema):
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=120))


# Days the calendar can materialise (and far beyond any the app browses).
CALENDAR_DAYS = validate.Range(min=date(2000, 1, 1), max=date(2199, 12, 31), error="Must be between 2000 and 2199.")


class DayQuerySchema(RequestSchema):
    date = fields.Date(required=True, format="%Y-%m-%d", validate=CALENDAR_DAYS)


class RangeQuerySchema(RequestSchema):
    from_ = fields.Date(data_key="from", load_default=None, format="%Y-%m-%d")
    to = fields.Date(load_default=None, format="%Y-%m-%d")


def lenient_date(value: Any) -> date | None:
    """A YYYY-MM-DD date, or None for anything else (call 12: the app sends "Bearer <token>" in from)."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None
