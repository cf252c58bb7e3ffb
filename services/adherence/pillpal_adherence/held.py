"""Reminders staged ahead of their time, so that a crowd of doses due at one instant goes out on time.

The engine claims a dose up to `lookahead` seconds before it is due and stages its `dose.due` here with
`release_at` = the due time; at that time one INSERT ... SELECT moves it into the outbox (the relay then
publishes it). The costly part of a reminder (claim, build, write) is thus done before the due time, and
only the move and the publish remain on the clock. Whatever closes or snoozes a dose drops its staged
event *before* writing its own events, so a dose.due never follows the dose's dose.closed. A staged
event whose dose is already past its grace period (the engine was down) is dropped, not sent stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from pillpal_shared.envelope import Envelope
from pillpal_shared.metrics import REMINDER_LATENESS, observe_each

from .models import OUTBOX, HeldEvent

H = HeldEvent


def hold(session: Session, staged: Iterable[tuple[Envelope, int, datetime]]) -> None:
    """(envelope, user_id, release_at) rows into the staging table."""
    rows = [
        {
            "event_id": e.id,
            "instance_id": e.subject["instance_id"],
            "user_id": user_id,
            "release_at": at,
            "event_type": e.type,
            "topic": e.topic,
            "payload": e.to_json().decode(),
        }
        for e, user_id, at in staged
    ]
    if rows:
        session.execute(insert(H), rows)


def drop(session: Session, instance_ids: Iterable[int]) -> None:
    """Forgets the staged events of doses that were closed or snoozed."""
    ids = list(instance_ids)
    if ids:
        session.execute(delete(H).where(H.instance_id.in_(ids)), execution_options={"synchronize_session": False})


def release(session: Session, now: datetime, grace: timedelta, limit: int = 20_000) -> int:
    """Moves the events whose time has come into the outbox, in order; returns how many."""
    rows = session.execute(
        select(H.id, H.release_at)
        .where(H.release_at <= now)
        .order_by(H.release_at, H.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return 0
    due = [row.id for row in rows]
    fresh = select(H.event_id, H.event_type, H.topic, H.payload, H.release_at).where(
        H.id.in_(due), H.release_at > now - grace
    )
    columns = ["event_id", "event_type", "topic", "payload", "created_at"]
    session.execute(insert(OUTBOX.table).from_select(columns, fresh.order_by(H.id)))
    session.execute(delete(H).where(H.id.in_(due)), execution_options={"synchronize_session": False})
    observe_each(REMINDER_LATENESS, ((now - r.release_at).total_seconds() for r in rows if r.release_at > now - grace))
    return len(due)


def next_release(session: Session) -> datetime | None:
    return session.scalar(select(H.release_at).order_by(H.release_at).limit(1))
