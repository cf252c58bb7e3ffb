"""MedicationResponse, exactly as the app parses it: ints, ISO dates, zero-padded "HH:MM" times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from .models import Medication, MedTime
from .schedule import format_hhmm


def _iso(value: date | str | None) -> str | None:
    return value if value is None or isinstance(value, str) else value.isoformat()


def shape(
    med_id: int,
    name: str,
    notes: str | None,
    start_date: date | str | None,
    end_date: date | str | None,
    repeat_type: str,
    day_mask: str,
    custom_start: date | str | None,
    custom_end: date | str | None,
    lead_minutes: int,
    times: list[str],
) -> dict[str, Any]:
    return {
        "med_id": med_id,
        "name": name,
        "notes": notes,
        "active_start_date": _iso(start_date),
        "active_end_date": _iso(end_date),
        "schedule": {
            "repeat_type": repeat_type,
            "day_mask": day_mask,
            "times": times,
            "custom_start": _iso(custom_start),
            "custom_end": _iso(custom_end),
            "lead_minutes": lead_minutes,
        },
    }


def present(med: Medication) -> dict[str, Any]:
    """The response for loaded ORM objects (after a write)."""
    rule = med.rule
    times: Sequence[MedTime] = rule.times
    return shape(
        med.med_id,
        med.name,
        med.notes,
        med.start_date,
        med.end_date,
        rule.repeat_type,
        rule.day_mask,
        rule.custom_start,
        rule.custom_end,
        rule.lead_minutes,
        [format_hhmm(t.hhmm) for t in times],
    )
