"""What the app does to a dose: mark it taken or missed, or snooze it. Always scoped to the caller."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pillpal_shared.errors import ApiError

from . import emit, held
from .config import AdherenceSettings
from .models import OPEN, OUTBOX, DoseEvent, DoseInstance

MAX_SNOOZE = timedelta(hours=12)  # a dose cannot be pushed further than this past its time


class Doses:
    def __init__(self, settings: AdherenceSettings, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.clock = clock

    def _own(self, session: Session, user_id: int, instance_id: int) -> DoseInstance:
        query = select(DoseInstance).where(DoseInstance.instance_id == instance_id, DoseInstance.user_id == user_id)
        dose = session.scalar(query.with_for_update())
        if dose is None:
            raise ApiError(404, "No such dose", {"instance_id": ["Not one of your doses."]})
        return dose

    def set_status(self, session: Session, user_id: int, instance_id: int, status: str) -> DoseInstance:
        """taken or missed. The app may correct an answer (missed -> taken); a cancelled dose is final."""
        dose = self._own(session, user_id, instance_id)
        if dose.status == status:
            return dose
        if dose.status == "cancelled":
            raise ApiError(409, "This dose was cancelled with its medication", {"instance_id": ["Cancelled."]})
        now, closes = self.clock(), dose.status in OPEN
        dose.status, dose.next_at, dose.closed_at = status, None, dose.closed_at or now
        if status == "taken":
            dose.taken_at = now
            events, kind = emit.taken(dose, now, "app", closes), "ack_taken"
        else:
            dose.taken_at = None
            events, kind = emit.missed(dose, now, closes), "miss"
        self._record(session, dose, kind, now)
        held.drop(session, [dose.instance_id])  # before our events: a staged dose.due must not follow them
        OUTBOX.add(session, *events)
        return dose

    def snooze(self, session: Session, user_id: int, instance_id: int, minutes: int) -> DoseInstance:
        """Silences a due dose for `minutes`; the engine re-alerts it then (dose.due again)."""
        dose = self._own(session, user_id, instance_id)
        now = self.clock()
        if dose.status not in OPEN:
            raise ApiError(409, f"This dose is already {dose.status}", {"instance_id": [f"Already {dose.status}."]})
        if dose.due_at > now:
            raise ApiError(409, "This dose is not due yet", {"instance_id": ["Not due yet."]})
        until = now + timedelta(minutes=minutes)
        if until > dose.scheduled_at + MAX_SNOOZE:
            raise ApiError(409, "This dose cannot be snoozed any further", {"minutes": ["Too far past the dose."]})
        dose.status, dose.snoozed_until, dose.next_at = "snoozed", until, until
        self._record(session, dose, "snooze", now, {"minutes": minutes})
        held.drop(session, [dose.instance_id])
        OUTBOX.add(session, emit.snoozed(dose, until, now))
        return dose

    @staticmethod
    def _record(session: Session, dose: DoseInstance, kind: str, now: datetime, meta: dict | None = None) -> None:  # type: ignore[type-arg]
        row = emit.dose_event(kind, "app", now, now, instance_id=dose.instance_id, user_id=dose.user_id, meta=meta)
        session.execute(DoseEvent.__table__.insert(), [row])
