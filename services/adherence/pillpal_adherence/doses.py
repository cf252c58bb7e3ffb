"""Dose instances from medication rules: materialised in UTC over a rolling horizon of local days.

- `sync_doses` makes a medication's untouched future doses follow its (new) rule: doses nobody has touched
  (status scheduled, no dose event, time still ahead) that the rule no longer wants are removed, new ones
  are added, kept ones keep their instance id. Past doses and touched ones keep their history.
- `extend_doses` adds the days between the medication's horizon and today + horizon_days.
- `materialise_day` creates the doses of a day beyond the horizon when someone looks at it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Insert, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from .models import OPEN, AdherenceUser, DoseEvent, DoseInstance, Medication
from .schedule import Occurrence, Rule, expand, local_today, zone_for

D = DoseInstance


def rule_of(med: Medication) -> Rule:
    return Rule(
        repeat_type=med.repeat_type,
        times=tuple(t for t in med.times.split(",") if t),
        day_mask=med.day_mask,
        interval_days=med.interval_days,
        custom_start=med.custom_start,
        custom_end=med.custom_end,
        active_start=med.active_start,
        active_end=med.active_end,
        lead_minutes=med.lead_minutes,
    )


def user_zone(session: Session, user_id: int) -> ZoneInfo:
    return zone_for(session.scalar(select(AdherenceUser.timezone).where(AdherenceUser.user_id == user_id)))


def insert_ignore(table) -> Insert:  # type: ignore[no-untyped-def]
    """INSERT that skips rows whose unique key exists (a concurrent writer made the same dose)."""
    return (
        insert(table)
        .prefix_with("IGNORE", dialect="mysql")
        .prefix_with("IGNORE", dialect="mariadb")
        .prefix_with("OR IGNORE", dialect="sqlite")
    )


def _add(session: Session, med: Medication, occurrences: Iterable[Occurrence]) -> int:
    lead = timedelta(minutes=med.lead_minutes)
    rows = [
        {
            "user_id": med.user_id,
            "med_id": med.med_id,
            "scheduled_at": o.scheduled_at,
            "due_at": o.scheduled_at - lead,
            "local_date": o.local_date,
            "local_time": o.local_time,
            "status": "scheduled",
            "created_source": "schedule",
            "next_at": o.scheduled_at - lead,
        }
        for o in occurrences
    ]
    if rows:
        session.execute(insert_ignore(D.__table__), rows)
    return len(rows)


def sync_doses(session: Session, med: Medication, zone: ZoneInfo, now: datetime, horizon_days: int) -> None:
    today = local_today(now, zone)
    target = today + timedelta(days=horizon_days)
    existing = session.execute(
        select(D.instance_id, D.scheduled_at, D.status, D.due_at, D.local_date).where(
            D.med_id == med.med_id, D.scheduled_at > now
        )
    ).all()
    end = max([target, *(r.local_date for r in existing)])
    wanted = {o.scheduled_at: o for o in expand(rule_of(med), zone, today, end) if o.scheduled_at > now}
    stale = [r.instance_id for r in existing if r.status == "scheduled" and r.scheduled_at not in wanted]
    if stale:
        untouched = (D.instance_id.in_(stale), D.status == "scheduled")
        touched = exists().where(DoseEvent.instance_id == D.instance_id)
        session.execute(
            update(D).where(*untouched, touched).values(status="cancelled", next_at=None, closed_at=now),
            execution_options={"synchronize_session": False},
        )
        session.execute(delete(D).where(*untouched), execution_options={"synchronize_session": False})
    lead = timedelta(minutes=med.lead_minutes)
    moved = [
        r
        for r in existing
        if r.status == "scheduled" and r.scheduled_at in wanted and r.due_at != r.scheduled_at - lead
    ]
    for r in moved:  # the lead time changed: only these few rows
        due_at = r.scheduled_at - lead
        session.execute(
            update(D)
            .where(D.instance_id == r.instance_id, D.status == "scheduled")
            .values(due_at=due_at, next_at=due_at),
            execution_options={"synchronize_session": False},
        )
    have = {r.scheduled_at for r in existing}
    _add(session, med, (o for at, o in wanted.items() if at not in have))
    med.horizon_until = target


def extend_doses(session: Session, med: Medication, zone: ZoneInfo, now: datetime, horizon_days: int) -> int:
    today = local_today(now, zone)
    target = today + timedelta(days=horizon_days)
    start = max(today, med.horizon_until + timedelta(days=1)) if med.horizon_until else today
    added = 0
    if start <= target:
        added = _add(session, med, (o for o in expand(rule_of(med), zone, start, target) if o.scheduled_at > now))
    med.horizon_until = max(target, med.horizon_until or target)
    return added


def materialise_day(session: Session, user_id: int, day: date, zone: ZoneInfo, now: datetime) -> None:
    """Creates the doses of a local day past the horizon of some of the user's medications."""
    if day <= local_today(now, zone):
        return
    meds = session.scalars(
        select(Medication).where(
            Medication.user_id == user_id,
            Medication.deleted_at.is_(None),
            (Medication.horizon_until.is_(None)) | (Medication.horizon_until < day),
        )
    ).all()
    for med in meds:
        _add(session, med, (o for o in expand(rule_of(med), zone, day, day) if o.scheduled_at > now))


def cancel_open_doses(session: Session, med_id: int, now: datetime) -> list[tuple[DoseInstance, str]]:
    """Cancels every dose of the medication still waiting; returns each with the status it had."""
    doses = session.scalars(select(D).where(D.med_id == med_id, D.status.in_(OPEN)).with_for_update()).all()
    cancelled = [(d, d.status) for d in doses]
    for dose in doses:
        dose.status, dose.next_at, dose.closed_at = "cancelled", None, now
    return cancelled
