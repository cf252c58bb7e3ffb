"""The gateway's projection of dose alarms, built from adherence's dose.due / dose.snoozed / dose.closed
events (never from adherence's tables). Events may arrive late or twice: a closed dose stays closed, and
an event older than the last one applied changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from .models import DoseAlert

ALERTING, SNOOZED, CLOSED = "alerting", "snoozed", "closed"


def _row(session: Session, subject: dict[str, Any], scheduled_at: datetime, at: datetime) -> tuple[DoseAlert, bool]:
    row = session.get(DoseAlert, subject["instance_id"], with_for_update=True)
    if row is not None:
        return row, False
    row = DoseAlert(
        instance_id=subject["instance_id"],
        user_id=subject["user_id"],
        med_id=subject["med_id"],
        state=ALERTING,
        scheduled_at=scheduled_at,
        last_event_at=at,
    )
    session.add(row)
    return row, True


def _stale(row: DoseAlert, new: bool, at: datetime) -> bool:
    return not new and (row.state == CLOSED or at < row.last_event_at)


def on_due(session: Session, subject: dict[str, Any], data: dict[str, Any], at: datetime) -> bool:
    """Returns True when the dose is (again) alerting."""
    row, new = _row(session, subject, data["scheduled_at"], at)
    if _stale(row, new, at):
        return False
    row.state, row.due_at, row.snoozed_until, row.last_event_at = ALERTING, data["due_at"], None, at
    return True


def on_snoozed(session: Session, subject: dict[str, Any], data: dict[str, Any], at: datetime) -> bool:
    row, new = _row(session, subject, data["scheduled_at"], at)
    if _stale(row, new, at):
        return False
    row.state, row.snoozed_until, row.last_event_at = SNOOZED, data["until"], at
    return True


def on_closed(session: Session, subject: dict[str, Any], data: dict[str, Any], at: datetime) -> bool:
    row, new = _row(session, subject, data["scheduled_at"], at)
    changed = new or row.state != CLOSED
    row.state, row.snoozed_until, row.last_event_at = CLOSED, None, max(at, row.last_event_at)
    return changed


def is_alerting(session: Session, user_id: int, now: datetime, max_age: timedelta) -> bool:
    """True while one of the user's doses is due and not yet confirmed (a snooze that ran out counts)."""
    return (
        session.scalar(
            select(DoseAlert.instance_id)
            .where(
                DoseAlert.user_id == user_id,
                or_(DoseAlert.state == ALERTING, and_(DoseAlert.state == SNOOZED, DoseAlert.snoozed_until <= now)),
                func.coalesce(DoseAlert.due_at, DoseAlert.scheduled_at) >= now - max_age,
            )
            .limit(1)
        )
        is not None
    )


def forget_user(session: Session, user_id: int) -> None:
    session.execute(delete(DoseAlert).where(DoseAlert.user_id == user_id))
