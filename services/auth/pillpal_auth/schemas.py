from __future__ import annotations

from datetime import date
from zoneinfo import available_timezones

from marshmallow import ValidationError, fields, validate, validates

from pillpal_shared.schemas import AppDate, RequestSchema

TIMEZONES = frozenset(available_timezones())


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


class RegisterSchema(RequestSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=8, max=256))
    full_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    birthday = AppDate(load_default=None, allow_none=True)

    @validates("birthday")
    def _past(self, value: date | None, **_: object) -> None:
        if value is not None and value > date.today():
            raise ValidationError("Birthday cannot be in the future.")


class LoginSchema(RequestSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class ProfilePatchSchema(RequestSchema):
    full_name = fields.String(allow_none=True, validate=[validate.Length(max=100)])
    timezone = fields.String(validate=[_not_blank])

    @validates("timezone")
    def _iana(self, value: str, **_: object) -> None:
        if value not in TIMEZONES:
            raise ValidationError("Must be an IANA time zone name, such as Europe/Dublin.")


class RefreshSchema(RequestSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=20, max=200))


class LogoutSchema(RequestSchema):
    refresh_token = fields.String(load_default=None, allow_none=True)


class MeSchema(RequestSchema):
    user_id = fields.Integer()
    email = fields.String()
    full_name = fields.String(allow_none=True)
    birthday = AppDate(allow_none=True)
    timezone = fields.String()
