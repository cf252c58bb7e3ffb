"""marshmallow building blocks for request bodies: unknown fields are ignored, as the app expects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields


class RequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE


class StrictBoolean(fields.Boolean):
    """Only JSON true/false: "yes" or 1 are refused rather than guessed."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value


class AppDate(fields.Field):
    """A date the app sends as dd/MM/yyyy; ISO yyyy-MM-dd is accepted too. Serialised as dd/MM/yyyy."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str):
            raise ValidationError("Must be a date as dd/MM/yyyy.")
        for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
            try:
                return datetime.strptime(value.strip(), pattern).date()
            except ValueError:
                continue
        raise ValidationError("Must be a date as dd/MM/yyyy (or yyyy-MM-dd).")

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.strftime("%d/%m/%Y")
