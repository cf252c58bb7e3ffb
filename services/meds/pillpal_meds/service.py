"""Meds' domain: create, change and delete a user's medications, announcing each change through
the outbox in the same transaction. Every function is scoped to the caller; another user's
medication is simply not found (404), so nothing is revealed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pillpal_shared.envelope import Envelope, new_event
from pillpal_shared.errors import ApiError

from .config import SERVICE
from .models import OUTBOX, Medication, MedsUser, MedTime, ScheduleRule
from .schedule import DATED, local_today, resolve
from .schemas import MedicationSchema, PatchShape
from .views import present

NOT_FOUND = "No such medication"
_full, _patch_shape = MedicationSchema(), PatchShape()


class Medications:
    def __init__(self, clock: Callable[[], datetime], default_lead_minutes: int = 5) -> None:
        self.clock = clock
        self.default_lead_minutes = default_lead_minutes

    def create(self, session: Session, user_id: int, body: dict[str, Any]) -> Medication:
        user = session.get(MedsUser, user_id, with_for_update=True)  # ordered against forget_user
        if user is not None and user.deleted_at is not None:
            raise ApiError(401, "This account no longer exists; sign in again")
        now = self.clock()
        med = Medication(user_id=user_id, revision=1, created_at=now, updated_at=now)
        med.rule = ScheduleRule(lead_minutes=self.default_lead_minutes)
        self._apply(session, med, body, keep_dates=False)
        session.add(med)
        session.flush()
        OUTBOX.add(session, self.upserted(med))
        return med

    def replace(self, session: Session, user_id: int, med_id: int, body: dict[str, Any]) -> Medication:
        med = self._owned(session, user_id, med_id)
        keep_dates = med.rule.repeat_type not in DATED
        self._apply(session, med, body, keep_dates=keep_dates)
        med.revision += 1
        med.updated_at = self.clock()
        session.flush()
        OUTBOX.add(session, self.upserted(med))
        return med

    def patch(self, session: Session, user_id: int, med_id: int, changes: dict[str, Any]) -> Medication:
        """Changes only what `changes` names (schedule fields one by one); the result must be valid whole."""
        _patch_shape.load(changes)
        med = self._owned(session, user_id, med_id)
        current = present(med)
        for key in ("med_id", "active_start_date", "active_end_date"):
            current.pop(key)  # absent dates keep their stored values, as in PUT
        merged = {**current, **changes, "schedule": {**current["schedule"], **(changes.get("schedule") or {})}}
        return self.replace(session, user_id, med_id, _full.load(merged))

    def delete(self, session: Session, user_id: int, med_id: int) -> None:
        med = self._owned(session, user_id, med_id)
        session.delete(med)
        OUTBOX.add(session, self.deleted(user_id, med_id, med.revision + 1))

    # --- events -----------------------------------------------------------------------------

    def upserted(self, med: Medication) -> Envelope:
        data = present(med)
        del data["med_id"]
        data["revision"] = med.revision
        data["schedule"]["interval_days"] = med.rule.interval_days
        subject = {"user_id": med.user_id, "med_id": med.med_id}
        return new_event("medication.upserted", subject, data, source=SERVICE, occurred_at=self.clock())

    def deleted(self, user_id: int, med_id: int, revision: int) -> Envelope:
        subject = {"user_id": user_id, "med_id": med_id}
        return new_event(
            "medication.deleted", subject, {"revision": revision}, source=SERVICE, occurred_at=self.clock()
        )

    # --- helpers ----------------------------------------------------------------------------

    def _owned(self, session: Session, user_id: int, med_id: int) -> Medication:
        """The caller's medication, locked for the change; 404 for anyone else's or none."""
        med = session.scalar(
            select(Medication).where(Medication.med_id == med_id, Medication.user_id == user_id).with_for_update()
        )
        if med is None:
            raise ApiError(404, NOT_FOUND)
        return med

    def _apply(self, session: Session, med: Medication, body: dict[str, Any], *, keep_dates: bool) -> None:
        schedule = body["schedule"]
        start: date | None = None
        end: date | None = None
        if schedule["repeat_type"] not in DATED:
            start = body.get("active_start_date") or (med.start_date if keep_dates else None)
            end = body["active_end_date"] if "active_end_date" in body else (med.end_date if keep_dates else None)
            start = start or self._today(session, med.user_id)
            if end is not None and start > end:
                raise ApiError(
                    400,
                    "active_end_date: Must not be before active_start_date.",
                    {"active_end_date": ["Must not be before active_start_date."]},
                )
        resolved = resolve(schedule, start_date=start, end_date=end)
        med.name, med.notes = body["name"], body["notes"]
        med.start_date, med.end_date = resolved.start_date, resolved.end_date
        rule = med.rule
        rule.repeat_type, rule.day_mask = resolved.repeat_type, resolved.day_mask
        rule.custom_start, rule.custom_end = resolved.custom_start, resolved.custom_end
        if schedule.get("lead_minutes") is not None:
            rule.lead_minutes = schedule["lead_minutes"]
        rule.times = [MedTime(hhmm=t, sort_order=i) for i, t in enumerate(resolved.times)]

    def _today(self, session: Session, user_id: int) -> date:
        user = session.get(MedsUser, user_id)
        return local_today(self.clock, user.timezone if user else None)
