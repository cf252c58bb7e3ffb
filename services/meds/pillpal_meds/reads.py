"""The hot read path: a user's medications as MedicationResponse JSON text, in one SQL statement.

On MySQL/MariaDB the server builds each medication's JSON object itself (JSON_OBJECT, times folded
with GROUP_CONCAT in sort order), so Python only joins the rows: no per-column driver decoding, no
dicts, no JSON encoding. Elsewhere (SQLite, `make run`'s default) a portable Core query returns one
row per medication and Python shapes it. Both give the same JSON (a test compares them on MariaDB).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, String, bindparam, cast, func, select, text

from .models import Medication, MedTime, ScheduleRule
from .views import shape

_SERVER_BUILT = """
SELECT JSON_OBJECT(
    'med_id', m.med_id, 'name', m.name, 'notes', m.notes,
    'active_start_date', CAST(m.start_date AS CHAR), 'active_end_date', CAST(m.end_date AS CHAR),
    'schedule', JSON_OBJECT(
        'repeat_type', r.repeat_type, 'day_mask', r.day_mask,
        'times', JSON_EXTRACT(CONCAT('["', (
            SELECT GROUP_CONCAT(SUBSTR(t.hhmm, 1, 5) ORDER BY t.sort_order SEPARATOR '","')
            FROM med_times t WHERE t.rule_id = r.rule_id), '"]'), '$'),
        'custom_start', CAST(r.custom_start AS CHAR), 'custom_end', CAST(r.custom_end AS CHAR),
        'lead_minutes', r.lead_minutes))
FROM medications m JOIN med_schedule_rules r ON r.med_id = m.med_id
WHERE m.user_id = :user_id {one}
ORDER BY m.med_id
"""
_SERVER_ALL = text(_SERVER_BUILT.format(one=""))
_SERVER_ONE = text(_SERVER_BUILT.format(one="AND m.med_id = :med_id"))

_m, _r, _t = Medication.__table__.c, ScheduleRule.__table__.c, MedTime.__table__.c
# substr(TIME, 1, 5) is "HH:MM" and a date cast to text is ISO, on MySQL/MariaDB and on SQLite.
_PORTABLE_ALL = (
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
_PORTABLE_ONE = _PORTABLE_ALL.where(_m.med_id == bindparam("med_id"))


def _portable(conn: Connection, params: dict[str, Any]) -> list[str]:
    query = _PORTABLE_ONE if "med_id" in params else _PORTABLE_ALL
    # Times are stored in time order, so sorting the "HH:MM" texts restores sort_order.
    return [
        json.dumps(shape(*row[:10], sorted(row[10].split(",")) if row[10] else []), separators=(",", ":"))
        for row in conn.execute(query, params)
    ]


def _server_built(conn: Connection, params: dict[str, Any]) -> list[str]:
    return list(conn.execute(_SERVER_ONE if "med_id" in params else _SERVER_ALL, params).scalars())


def _objects(conn: Connection, params: dict[str, Any], portable: bool = False) -> list[str]:
    if conn.dialect.name == "mysql" and not portable:
        return _server_built(conn, params)
    return _portable(conn, params)


def list_json(conn: Connection, user_id: int, *, portable: bool = False) -> str:
    """The caller's medications, oldest first, as a JSON array."""
    return "[" + ",".join(_objects(conn, {"user_id": user_id}, portable)) + "]"


def one_json(conn: Connection, user_id: int, med_id: int, *, portable: bool = False) -> str | None:
    """One of the caller's medications as a JSON object; None when it is not theirs (or none)."""
    found = _objects(conn, {"user_id": user_id, "med_id": med_id}, portable)
    return found[0] if found else None
