from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from pillpal_shared.events import DEVICE_ID
from pillpal_shared.schemas import RequestSchema, StrictBoolean

from .settings import Preferences


class PairSchema(RequestSchema):
    device_id = fields.String(required=True, validate=DEVICE_ID)
    pairing_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))


class SettingsUpdateSchema(RequestSchema):
    """Call 13 in both namings: the app's (sound, vibration, device_notifications = the LED) and the
    original backend's (sound_enabled, vibration_enabled, led_enabled). The app's wins when both come."""

    sound = StrictBoolean()
    vibration = StrictBoolean()
    device_notifications = StrictBoolean()
    sound_enabled = StrictBoolean()
    vibration_enabled = StrictBoolean()
    led_enabled = StrictBoolean()
    lead_minutes_default = fields.Integer(strict=True, validate=validate.Range(0, 120))
    dyslexia_font = StrictBoolean()

    @post_load
    def _changes(self, data: dict[str, Any], **_: object) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name, app_name, original in (
            ("sound", "sound", "sound_enabled"),
            ("vibration", "vibration", "vibration_enabled"),
            ("led", "device_notifications", "led_enabled"),
        ):
            if app_name in data:
                changes[name] = data[app_name]
            elif original in data:
                changes[name] = data[original]
        for name in ("lead_minutes_default", "dyslexia_font"):
            if name in data:
                changes[name] = data[name]
        return changes


class BoxSchema(Schema):
    device_id = fields.String()
    nickname = fields.String(allow_none=True)
    hw_model = fields.String(allow_none=True)
    fw_version = fields.String(allow_none=True)
    online = fields.Boolean()
    last_seen = fields.AwareDateTime(allow_none=True)
    battery_percent = fields.Integer(allow_none=True)
    rssi = fields.Integer(allow_none=True)
    paired_at = fields.AwareDateTime()


def settings_body(preferences: Preferences) -> dict[str, Any]:
    """Both namings, so either client finds its fields."""
    return {
        "sound": preferences.sound,
        "vibration": preferences.vibration,
        "device_notifications": preferences.led,
        "sound_enabled": preferences.sound,
        "vibration_enabled": preferences.vibration,
        "led_enabled": preferences.led,
        "lead_minutes_default": preferences.lead_minutes_default,
        "dyslexia_font": preferences.dyslexia_font,
    }
