"""What meds does with the events it consumes (auth's user.updated and user.deleted).

Each handler runs inside the consumer's transaction, after the inbox has dropped duplicates, and is
idempotent on its own as well: applying an event twice changes nothing more.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pillpal_shared.consumer import Handler
from pillpal_shared.envelope import Envelope

from .models import OUTBOX, Medication, MedsUser
from .service import Medications

log = structlog.get_logger(__name__)


def _user(session: Session, user_id: int, at: datetime) -> MedsUser:
    user = session.get(MedsUser, user_id, with_for_update=True)
    if user is None:
        user = MedsUser(user_id=user_id, timezone="UTC", updated_at=at)
        session.add(user)
    return user


def forget_user(meds: Medications, session: Session, user_id: int, at: datetime) -> int:
    """Removes every medication of a deleted user, announcing each as deleted so adherence cancels
    its doses, and leaves a tombstone. Returns how many were removed. The user's row is locked first,
    as `Medications.create` locks it, so a create racing this either lands before (and is removed
    here) or sees the tombstone."""
    user = _user(session, user_id, at)
    user.deleted_at = user.deleted_at or at
    session.flush()
    owned = session.execute(
        select(Medication.med_id, Medication.revision).where(Medication.user_id == user_id).with_for_update()
    ).all()
    if owned:
        session.execute(delete(Medication).where(Medication.user_id == user_id))
        OUTBOX.add(session, *(meds.deleted(user_id, med_id, revision + 1) for med_id, revision in owned))
    log.info("user_medications_removed", user_id=user_id, count=len(owned))
    return len(owned)


def update_timezone(session: Session, user_id: int, timezone: str, at: datetime) -> None:
    """Keeps the newest time zone: an older user.updated arriving late changes nothing."""
    user = _user(session, user_id, at)
    if user in session.new or at >= user.updated_at:
        user.timezone = timezone
        user.updated_at = at


def event_handlers(meds: Medications) -> dict[str, Handler]:
    def on_user_deleted(session: Session, envelope: Envelope) -> None:
        forget_user(meds, session, envelope.subject["user_id"], envelope.occurred_at)

    def on_user_updated(session: Session, envelope: Envelope) -> None:
        update_timezone(session, envelope.subject["user_id"], envelope.data["timezone"], envelope.occurred_at)

    return {"user.deleted": on_user_deleted, "user.updated": on_user_updated}
