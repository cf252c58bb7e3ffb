"""The gateway's projection of dose alarms, built from adherence's dose.due / dose.snoozed / dose.closed
events (never from adherence's tables). Events may arrive late or twice: a closed dose stays closed, and
an event older than the last one applied changes nothing.

A consumer batch of dose events is applied at once (`Batch`): one locked query loads the rows the batch
touches, the events are applied to them in memory in their order, and one upsert writes the rows that
changed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from pillpal_shared.envelope import Envelope

from .models import DoseAlert

ALERTING, SNOOZED, CLOSED = "alerting", "snoozed", "closed"
_TABLE = DoseAlert.__table__
_UPDATED = ("state", "due_at", "snoozed_until", "last_event_at")


@dataclass
class Alert:
    """One dose_alerts row, in memory while a batch is applied."""

    instance_id: int
    user_id: int
    med_id: int
    state: str
    scheduled_at: datetime
    due_at: datetime | None
    snoozed_until: datetime | None
    last_event_at: datetime

    def alerting(self, now: datetime, max_age: timedelta) -> bool:
        """`is_alerting`'s condition for this one dose."""
        ringing = self.state == ALERTING or (
            self.state == SNOOZED and self.snoozed_until is not None and self.snoozed_until <= now
        )
        return ringing and (self.due_at if self.due_at is not None else self.scheduled_at) >= now - max_age


class Batch:
    """The rows a batch of dose events touches, loaded locked in one query and written back in one upsert."""

    def __init__(self, session: Session, envelopes: list[Envelope]) -> None:
        ids = {env.subject["instance_id"] for env in envelopes}
        loaded = session.execute(select(_TABLE).where(_TABLE.c.instance_id.in_(ids)).with_for_update())
        self.rows = {row.instance_id: Alert(**row._mapping) for row in loaded}
        self._loaded = {key: replace(alert) for key, alert in self.rows.items()}
        self._by_user: dict[int, list[Alert]] = defaultdict(list)
        for alert in self.rows.values():
            self._by_user[alert.user_id].append(alert)

    @property
    def instance_ids(self) -> set[int]:
        return set(self.rows)

    def _row(self, subject: dict[str, Any], scheduled_at: datetime, at: datetime) -> tuple[Alert, bool]:
        row = self.rows.get(subject["instance_id"])
        if row is not None:
            return row, False
        row = Alert(
            subject["instance_id"], subject["user_id"], subject["med_id"], ALERTING, scheduled_at, None, None, at
        )
        self.rows[row.instance_id] = row
        self._by_user[row.user_id].append(row)
        return row, True

    def apply(self, envelope: Envelope, data: dict[str, Any]) -> bool:
        """dose.due: True when the dose is (again) alerting; dose.snoozed / dose.closed: True when it changed."""
        at = envelope.occurred_at
        row, new = self._row(envelope.subject, data["scheduled_at"], at)
        if envelope.type == "dose.closed":
            changed = new or row.state != CLOSED
            row.state, row.snoozed_until, row.last_event_at = CLOSED, None, max(at, row.last_event_at)
            return changed
        if not new and (row.state == CLOSED or at < row.last_event_at):
            return False
        if envelope.type == "dose.due":
            row.state, row.due_at, row.snoozed_until, row.last_event_at = ALERTING, data["due_at"], None, at
        else:
            row.state, row.snoozed_until, row.last_event_at = SNOOZED, data["until"], at
        return True

    def alerting(self, user_id: int, now: datetime, max_age: timedelta) -> bool:
        """Whether one of the user's doses in this batch is alerting, as the batch stands now."""
        return any(alert.alerting(now, max_age) for alert in self._by_user.get(user_id, ()))

    def save(self, session: Session) -> None:
        changed = [dict(vars(alert)) for key, alert in self.rows.items() if self._loaded.get(key) != alert]
        if not changed:
            return
        if session.get_bind().dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import insert as mysql_insert

            statement = mysql_insert(_TABLE)
            statement = statement.on_duplicate_key_update({name: statement.inserted[name] for name in _UPDATED})
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(_TABLE)
            statement = statement.on_conflict_do_update(
                index_elements=["instance_id"], set_={name: statement.excluded[name] for name in _UPDATED}
            )
        session.execute(statement, changed)


def _alerting_condition(now: datetime, max_age: timedelta):  # type: ignore[no-untyped-def]
    return and_(
        or_(DoseAlert.state == ALERTING, and_(DoseAlert.state == SNOOZED, DoseAlert.snoozed_until <= now)),
        func.coalesce(DoseAlert.due_at, DoseAlert.scheduled_at) >= now - max_age,
    )


def is_alerting(session: Session, user_id: int, now: datetime, max_age: timedelta) -> bool:
    """True while one of the user's doses is due and not yet confirmed (a snooze that ran out counts)."""
    return (
        session.scalar(
            select(DoseAlert.instance_id)
            .where(DoseAlert.user_id == user_id, _alerting_condition(now, max_age))
            .limit(1)
        )
        is not None
    )


def alerting_users(
    session: Session, user_ids: set[int], now: datetime, max_age: timedelta, *, besides: set[int]
) -> set[int]:
    """Of these users, those with an alerting dose other than the instances `besides` (one query)."""
    if not user_ids:
        return set()
    query = (
        select(DoseAlert.user_id).distinct().where(DoseAlert.user_id.in_(user_ids), _alerting_condition(now, max_age))
    )
    if besides:
        query = query.where(DoseAlert.instance_id.not_in(besides))
    return set(session.scalars(query))


def forget_user(session: Session, user_id: int) -> None:
    session.execute(delete(DoseAlert).where(DoseAlert.user_id == user_id))
