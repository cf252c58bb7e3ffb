"""The gateway's domain operations, for the routes, the bus handlers and the ingest alike. Each runs in
the caller's transaction; commands to boxes are staged in the outbox of that same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from pillpal_shared.consumer import Handler
from pillpal_shared.envelope import Envelope
from pillpal_shared.errors import ApiError
from pillpal_shared.events import DEVICE_ID

from . import doses, pairing, settings
from .commands import ALERT_START, ALERT_STOP, Commands, preference_commands
from .credentials import check_mosquitto_hash, mosquitto_hash
from .models import DeletedUser, Device, DeviceState
from .settings import Preferences

_DUMMY_HASH = mosquitto_hash("not a password")


class BoxAuthRequired(Exception):
    """The poll came without valid box credentials."""


@dataclass(frozen=True)
class Gateway:
    commands: Commands
    legacy: bool
    alert_max_age: timedelta
    clock: Callable[[], datetime]

    # --- the app's calls --------------------------------------------------------------------

    def pair(self, session: Session, user_id: int, device_id: str, code: str | None) -> bool:
        _require_live_account(session, user_id)
        now = self.clock()
        created = pairing.pair(session, user_id, device_id, code, self.legacy, now)
        if created:
            self.bring_up_to_date(session, [device_id], user_id, now)
        return created

    def unpair(self, session: Session, user_id: int, device_id: str) -> None:
        pairing.unpair(session, user_id, device_id, self.clock())
        self.commands.stage(session, [device_id], [ALERT_STOP])

    def update_settings(self, session: Session, user_id: int, changes: dict[str, Any]) -> Preferences:
        _require_live_account(session, user_id)
        preferences, changed = settings.update(session, user_id, changes, self.clock())
        if changed:
            self.commands.stage(session, pairing.active_devices(session, user_id), preference_commands(changed))
        return preferences

    def alert_status(self, session: Session, user_id: int) -> dict[str, bool]:
        """Call 14: the caller's own doses and settings, whatever device id the app sent."""
        flags = settings.get(session, user_id).box_flags()
        return {"should_alert": self.alerting(session, user_id), **flags}

    def poll_box(self, session: Session, credentials: tuple[str, str] | None, asked: str | None) -> dict[str, bool]:
        """The box's HTTP poll: HTTP Basic with its MQTT credentials, or (legacy mode only) none at all."""
        if credentials is not None:
            username, password = credentials
            device = session.get(Device, username)
            if not check_mosquitto_hash(password, device.mqtt_password_hash if device else _DUMMY_HASH) or not device:
                raise BoxAuthRequired("wrong box credentials")
            if asked not in (None, "", username):
                raise ApiError(403, "A box may only poll for itself", {"device_id": ["Not this box's id."]})
            return self.poll(session, username)
        if not self.legacy:
            raise BoxAuthRequired("box credentials required")
        if not asked or not DEVICE_ID.regex.match(asked):
            raise ApiError(400, "device_id: the box's id is required", {"device_id": ["Not a valid device id."]})
        return self.poll(session, asked)

    def poll(self, session: Session, device_id: str) -> dict[str, bool]:
        """The polling firmware: its owner's settings, and whether one of the owner's doses is alerting."""
        owner = pairing.current_owner(session, device_id)
        if owner is None:
            return {**Preferences().box_flags(), "alert": False}
        return {**settings.get(session, owner).box_flags(), "alert": self.alerting(session, owner)}

    def alerting(self, session: Session, user_id: int) -> bool:
        return doses.is_alerting(session, user_id, self.clock(), self.alert_max_age)

    # --- boxes ------------------------------------------------------------------------------

    def bring_up_to_date(
        self, session: Session, device_ids: list[str], user_id: int, now: datetime, *, ring: bool = True
    ) -> None:
        """A box newly paired or back online gets its owner's preferences, and ALERT_START if a dose rings
        (not when the message that brought it back reports the pill taken: that dose is about to close)."""
        words = preference_commands(settings.get(session, user_id).box_flags())
        if ring and doses.is_alerting(session, user_id, now, self.alert_max_age):
            words.append(ALERT_START)
        self.commands.stage(session, device_ids, words)
        session.execute(update(DeviceState).where(DeviceState.device_id.in_(device_ids)).values(last_sync_at=now))

    # --- events from the bus ----------------------------------------------------------------

    def handlers(self) -> dict[str, Handler]:
        return {
            "dose.due": self._dose_due,
            "dose.snoozed": self._dose_quiet,
            "dose.closed": self._dose_quiet,
            "user.deleted": self._user_deleted,
        }

    def _dose_due(self, session: Session, envelope: Envelope) -> None:
        data = envelope.load_data()
        fresh = data["due_at"] >= self.clock() - self.alert_max_age
        if doses.on_due(session, envelope.subject, data, envelope.occurred_at) and fresh:
            user_id = envelope.subject["user_id"]
            self.commands.stage(session, pairing.active_devices(session, user_id), [ALERT_START])

    def _dose_quiet(self, session: Session, envelope: Envelope) -> None:
        apply = doses.on_snoozed if envelope.type == "dose.snoozed" else doses.on_closed
        user_id = envelope.subject["user_id"]
        if apply(session, envelope.subject, envelope.load_data(), envelope.occurred_at) and not self.alerting(
            session, user_id
        ):
            self.commands.stage(session, pairing.active_devices(session, user_id), [ALERT_STOP])

    def _user_deleted(self, session: Session, envelope: Envelope) -> None:
        user_id = envelope.subject["user_id"]
        if session.get(DeletedUser, user_id) is None:
            session.add(DeletedUser(user_id=user_id, deleted_at=self.clock()))
        self.commands.stage(session, pairing.forget_user(session, user_id, self.clock()), [ALERT_STOP])
        settings.forget_user(session, user_id)
        doses.forget_user(session, user_id)


def _require_live_account(session: Session, user_id: int) -> None:
    if session.get(DeletedUser, user_id) is not None:
        raise ApiError(401, "This account no longer exists; sign in again")
