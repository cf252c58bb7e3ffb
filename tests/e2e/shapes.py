"""The JSON shapes of CONTRACTS.md section 1, as the Android app (Gson) reads them: a missing field or a
wrong JSON type breaks a screen, extra fields are fine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
APP_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")  # dd/MM/yyyy


@dataclass(frozen=True)
class Nullable:
    spec: Any


TOKEN = {"token": str}
ME = {"user_id": int, "email": str, "full_name": Nullable(str), "birthday": Nullable(APP_DATE)}
MEDICATION = {
    "med_id": int,
    "name": str,
    "notes": Nullable(str),
    "active_start_date": Nullable(DATE),
    "active_end_date": Nullable(DATE),
    "schedule": {
        "repeat_type": str,
        "day_mask": Nullable(re.compile(r"^[01]{7}$")),
        "times": [HHMM],
        "custom_start": Nullable(DATE),
        "custom_end": Nullable(DATE),
        "lead_minutes": int,
    },
}
CALENDAR = [{"instance_id": int, "name": str, "time": HHMM, "status": str}]
HISTORY = [{"date": DATE, "medications": [{"id": int, "name": str, "scheduledTime": HHMM, "status": str}]}]
SETTINGS = {"status": str}
ALERT_STATUS = {"should_alert": bool, "led": bool, "sound": bool, "vibration": bool}
POLL = {"led": bool, "sound": bool, "vibration": bool, "alert": bool}
HEALTH = {"status": str, "db": bool}


def problems(value: Any, spec: Any, path: str = "$") -> list[str]:
    """Where `value` departs from `spec` (a JSON type, a regex for strings, a dict of required fields,
    a one-element list for arrays, or Nullable)."""
    if isinstance(spec, Nullable):
        return [] if value is None else problems(value, spec.spec, path)
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r}"]
        found = []
        for key, inner in spec.items():
            if key not in value:
                found.append(f"{path}.{key}: missing")
            else:
                found += problems(value[key], inner, f"{path}.{key}")
        return found
    if isinstance(spec, list):
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {value!r}"]
        return [p for i, item in enumerate(value) for p in problems(item, spec[0], f"{path}[{i}]")]
    if isinstance(spec, re.Pattern):
        if not isinstance(value, str) or not spec.match(value):
            return [f"{path}: expected a string like {spec.pattern}, got {value!r}"]
        return []
    if spec is int and (isinstance(value, bool) or not isinstance(value, int)):
        return [f"{path}: expected a JSON integer, got {value!r}"]
    if not isinstance(value, spec):
        return [f"{path}: expected {spec.__name__}, got {value!r}"]
    return []


def conforms(value: Any, spec: Any) -> bool:
    found = problems(value, spec)
    assert not found, "\n".join(found)
    return True
