"""The app's calendar (call 10) and history (call 12): the caller's doses by local day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .doses import materialise_day, user_zone
from .models import DoseInstance, Medication
from .schedule import local_today

D = DoseInstance


def calendar_day(session: Session, user_id: int, on: date, now: datetime) -> list[dict[str, Any]]:
    """[{instance_id, name, time "HH:MM", status}] on that local day, by time. A day past the horizon is
    materialised on the spot, so its doses have real instance ids. Cancelled doses are not shown."""
    materialise_day(session, user_id, on, user_zone(session, user_id), now)
    rows = session.execute(
        select(D.instance_id, Medication.name, D.local_time, D.status)
        .join(Medication, Medication.med_id == D.med_id)
        .where(D.user_id == user_id, D.local_date == on, D.status != "cancelled")
        .order_by(D.local_time, Medication.name, D.instance_id)
    )
    return [{"instance_id": r.instance_id, "name": r.name, "time": r.local_time, "status": r.status} for r in rows]


def history(session: Session, user_id: int, start: date, end: date, now: datetime) -> list[dict[str, Any]]:
    """[{date, medications: [{id, name, scheduledTime, status}]}], newest day first, up to today; days
    without doses are left out."""
    end = min(end, local_today(now, user_zone(session, user_id)))
    if start > end:
        return []
    rows = session.execute(
        select(D.local_date, D.med_id, Medication.name, D.local_time, D.status)
        .join(Medication, Medication.med_id == D.med_id)
        .where(D.user_id == user_id, D.local_date >= start, D.local_date <= end, D.status != "cancelled")
        .order_by(D.local_date.desc(), D.local_time, Medication.name, D.instance_id)
    )
    days: dict[date, list[dict[str, Any]]] = {}
    for r in rows:
        entry = {"id": r.med_id, "name": r.name, "scheduledTime": r.local_time, "status": r.status}
        days.setdefault(r.local_date, []).append(entry)
    return [{"date": d.isoformat(), "medications": meds} for d, meds in days.items()]
