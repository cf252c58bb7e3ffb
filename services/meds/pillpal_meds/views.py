"""MedicationResponse, exactly as the app parses it: ints, ISO dates, zero-padded "HH:MM" times.

Reads go through one Core query that joins medications, their rule and its times, one row per
medication (times folded with GROUP_CONCAT, dates as text), so listing any number of medications
costs one SQL statement, no ORM objects and little driver work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, String, bindparam, cast, func, select

from .models import Medication, MedTime, ScheduleRule
from .schedule import format_hhmm

_m, _r, _t = Medication.__table__.c, ScheduleRule.__table__.c, MedTime.__table__.c
# substr(TIME, 1, 5) is "HH:MM" on MySQL/MariaDB and on SQLite; dates cast to text are ISO on both.
_BY_USER = (
    select(
        _m.med_id,
        _m.name,
        _m.notes,
        cast(_m.start_date, String),
        cast(_m.end_date, String),
        _r.repeat_type,
        _r.day_mask,
        cast(_r.custom_start, String),
        cast(_r.custom_end, String),
        _r.lead_minutes,
        func.group_concat(func.substr(_t.hhmm, 1, 5)),
    )
    .select_from(Medication.__table__.join(ScheduleRule.__table__).outerjoin(MedTime.__table__))
    .where(_m.user_id == bindparam("user_id"))
    .group_by(_m.med_id, _r.rule_id)
    .order_by(_m.med_id)
)
_ONE = _BY_USER.where(_m.med_id == bindparam("med_id"))


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


def _assemble(rows: Iterable[Row[Any]]) -> list[dict[str, Any]]:
    # Times are stored in time order, so sorting the "HH:MM" texts restores sort_order.
    return [shape(*row[:10], sorted(row[10].split(",")) if row[10] else []) for row in rows]


def list_medications(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    return _assemble(conn.execute(_BY_USER, {"user_id": user_id}))


def one_medication(conn: Connection, user_id: int, med_id: int) -> dict[str, Any] | None:
    found = _assemble(conn.execute(_ONE, {"user_id": user_id, "med_id": med_id}))
    return found[0] if found else None


def present(med: Medication) -> dict[str, Any]:
    """The same shape from loaded ORM objects (after a write)."""
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
