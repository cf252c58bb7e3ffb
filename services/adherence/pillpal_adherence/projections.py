"""What adherence keeps of other services' events: users' time zones, medications, device owners.

- user.updated sets the time zone (default UTC; an unknown zone counts as UTC); a change re-plans the
  user's future untouched doses. Older updates (by occurred_at) are ignored.
- user.deleted removes everything of the user; a bare tombstone (the id) makes later events ignored.
- medication.upserted stores the rule and re-plans future untouched doses; an upsert older (by revision)
  than the one stored is ignored. medication.deleted cancels the doses still waiting; it is final.
- pairing.created/removed (ordered by their `at`) and device events set who owns a box.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pillpal_shared.envelope import Envelope

from . import emit, held
from .config import AdherenceSettings
from .doses import cancel_open_doses, sync_doses, user_zone
from .models import OUTBOX, AdherenceUser, DeviceOwner, DoseEvent, DoseInstance, HeldEvent, Medication
from .schedule import zone_for

log = structlog.get_logger(__name__)
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # an owner learnt from a device event yields to any pairing event


class Projections:
    def __init__(self, settings: AdherenceSettings, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.clock = clock

    # --- users --------------------------------------------------------------------------------

    def user_updated(self, session: Session, env: Envelope) -> None:
        user_id, timezone = env.subject["user_id"], env.data["timezone"]
        if zone_for(timezone).key != timezone:
            log.warning("unknown_time_zone_using_utc", user_id=user_id, timezone=timezone)
            timezone = "UTC"
        user = session.get(AdherenceUser, user_id, with_for_update=True)
        if user is None:
            user = AdherenceUser(user_id=user_id, timezone="UTC", changed_at=env.occurred_at)
            session.add(user)
        elif user.deleted_at is not None or user.changed_at > env.occurred_at:
            return
        changed, user.timezone, user.changed_at = user.timezone != timezone, timezone, env.occurred_at
        if changed:
            zone, now = zone_for(timezone), self.clock()
            for med in self._meds(session, user_id):
                sync_doses(session, med, zone, now, self.settings.horizon_days)

    def user_deleted(self, session: Session, env: Envelope) -> None:
        user_id = env.subject["user_id"]
        for model in (HeldEvent, DoseEvent, DoseInstance, Medication, DeviceOwner):
            session.execute(delete(model).where(model.user_id == user_id))
        user = session.get(AdherenceUser, user_id, with_for_update=True)
        if user is None:
            session.add(
                AdherenceUser(user_id=user_id, timezone="UTC", changed_at=env.occurred_at, deleted_at=self.clock())
            )
        else:
            user.timezone, user.deleted_at = "UTC", self.clock()

    def _meds(self, session: Session, user_id: int) -> list[Medication]:
        query = select(Medication).where(Medication.user_id == user_id, Medication.deleted_at.is_(None))
        return list(session.scalars(query.with_for_update()))

    def _deleted_user(self, session: Session, user_id: int) -> bool:
        deleted = session.scalar(select(AdherenceUser.deleted_at).where(AdherenceUser.user_id == user_id))
        return deleted is not None

    # --- medications --------------------------------------------------------------------------

    def medication_upserted(self, session: Session, env: Envelope) -> None:
        user_id, med_id = env.subject["user_id"], env.subject["med_id"]
        data = env.load_data()
        med = session.get(Medication, med_id, with_for_update=True)
        if self._deleted_user(session, user_id):
            return
        if med is not None and (med.deleted_at is not None or (med.revision or 0) > data["revision"]):
            log.info("medication_upsert_ignored", med_id=med_id, revision=data["revision"], stored=med.revision)
            return
        if med is None:
            med = Medication(med_id=med_id)
            session.add(med)
        schedule = data["schedule"]
        med.user_id, med.revision, med.name = user_id, data["revision"], data["name"][:200]
        med.repeat_type, med.day_mask = schedule["repeat_type"], schedule["day_mask"]
        med.interval_days, med.times = schedule.get("interval_days"), ",".join(sorted(set(schedule["times"])))
        med.custom_start, med.custom_end = schedule["custom_start"], schedule["custom_end"]
        med.active_start, med.active_end = data["active_start_date"], data["active_end_date"]
        med.lead_minutes, med.updated_at = schedule["lead_minutes"], self.clock()
        session.flush()
        sync_doses(session, med, user_zone(session, user_id), self.clock(), self.settings.horizon_days)

    def medication_deleted(self, session: Session, env: Envelope) -> None:
        user_id, med_id = env.subject["user_id"], env.subject["med_id"]
        now = self.clock()
        med = session.get(Medication, med_id, with_for_update=True)
        if med is None:  # deleted before its upsert arrived: a tombstone keeps the late upsert out
            med = Medication(med_id=med_id, user_id=user_id, name="", repeat_type="once", times="", updated_at=now)
            session.add(med)
        med.deleted_at, med.updated_at = med.deleted_at or now, now
        cancelled = cancel_open_doses(session, med_id, now)
        held.drop(session, [d.instance_id for d, _ in cancelled])
        rows = [
            emit.dose_event("cancel", "system", now, now, instance_id=d.instance_id, user_id=d.user_id)
            for d, _ in cancelled
        ]
        if rows:
            session.execute(DoseEvent.__table__.insert(), rows)
        # Only doses that were ringing need telling: the gateway stops their alarm.
        OUTBOX.add(session, *(emit.closed(d, "cancelled", now) for d, was in cancelled if was != "scheduled"))

    # --- devices ------------------------------------------------------------------------------

    def pairing_created(self, session: Session, env: Envelope) -> None:
        self._set_owner(session, env.subject["device_id"], env.subject["user_id"], env.load_data()["at"])

    def pairing_removed(self, session: Session, env: Envelope) -> None:
        device = session.get(DeviceOwner, env.subject["device_id"], with_for_update=True)
        if device is not None and device.user_id == env.subject["user_id"]:
            self._set_owner(session, device.device_id, None, env.load_data()["at"])

    def device_seen(self, session: Session, env: Envelope) -> None:
        """A device event names the owner the gateway knows; it fills a gap, never overrides a pairing."""
        user_id = env.subject.get("user_id")
        if user_id is not None and session.get(DeviceOwner, env.subject["device_id"]) is None:
            if not self._deleted_user(session, user_id):
                session.add(DeviceOwner(device_id=env.subject["device_id"], user_id=user_id, changed_at=NEVER))

    def _set_owner(self, session: Session, device_id: str, user_id: int | None, at: datetime) -> None:
        if user_id is not None and self._deleted_user(session, user_id):
            return
        device = session.get(DeviceOwner, device_id, with_for_update=True)
        if device is None:
            session.add(DeviceOwner(device_id=device_id, user_id=user_id, changed_at=at))
        elif device.changed_at <= at:
            device.user_id, device.changed_at = user_id, at
