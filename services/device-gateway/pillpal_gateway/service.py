"""The gateway's domain operations, for the routes, the bus handlers and the ingest alike. Each runs in
the caller's transaction; commands to boxes are staged in the outbox of that same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from pillpal_shared.consumer import BatchHandler, Handler
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
        self.bring_boxes_up_to_date(session, [(device_ids, user_id, ring)], now)

    def bring_boxes_up_to_date(self, session: Session, boxes: list[tuple[list[str], int, bool]], now: datetime) -> None:
        """`bring_up_to_date` for each (boxes, owner, ring) in turn, in a constant number of statements."""
        if not boxes:
            return
        preferences = settings.get_many(session, {user_id for _, user_id, _ in boxes})
        asked = {user_id for _, user_id, ring in boxes if ring}
        ringing = doses.alerting_users(session, asked, now, self.alert_max_age, besides=set())
        orders = []
        for device_ids, user_id, ring in boxes:
            words = preference_commands(preferences[user_id].box_flags())
            if ring and user_id in ringing:
                words.append(ALERT_START)
            orders.append((device_ids, words))
        self.commands.stage_many(session, orders)
        synced = [device_id for device_ids, _, _ in boxes for device_id in device_ids]
        session.execute(update(DeviceState).where(DeviceState.device_id.in_(synced)).values(last_sync_at=now))

    # --- events from the bus ----------------------------------------------------------------

    def handlers(self) -> dict[str, Handler]:
        """One handler per event type (a dose event is applied as a batch of one)."""
        return {
            "dose.due": self._dose_event,
            "dose.snoozed": self._dose_event,
            "dose.closed": self._dose_event,
            "user.deleted": self._user_deleted,
        }

    def batch_handlers(self) -> dict[str, BatchHandler]:
        """The dose events, a consecutive run of them at a time (the worker's consumer takes these)."""
        return {"dose.due": self.dose_events, "dose.snoozed": self.dose_events, "dose.closed": self.dose_events}

    def _dose_event(self, session: Session, envelope: Envelope) -> None:
        self.dose_events(session, [envelope])

    def dose_events(self, session: Session, envelopes: list[Envelope]) -> None:
        """Applies dose.due / dose.snoozed / dose.closed in order, as one event at a time would: ALERT_START to
        the owner's boxes when a fresh dose (again) alerts; ALERT_STOP when a dose stops alerting and none of the
        owner's other doses still does. A constant number of statements per batch."""
        now = self.clock()
        batch = doses.Batch(session, envelopes)
        orders: list[tuple[int, str, bool]] = []  # (user, command, still alerting within the batch)
        for envelope in envelopes:
            data = envelope.load_data()
            user_id = envelope.subject["user_id"]
            if envelope.type == "dose.due":
                fresh = data["due_at"] >= now - self.alert_max_age
                if batch.apply(envelope, data) and fresh:
                    orders.append((user_id, ALERT_START, True))
            elif batch.apply(envelope, data):
                orders.append((user_id, ALERT_STOP, batch.alerting(user_id, now, self.alert_max_age)))
        batch.save(session)
        quiet = {user_id for user_id, command, ringing in orders if command == ALERT_STOP and not ringing}
        ringing_elsewhere = doses.alerting_users(session, quiet, now, self.alert_max_age, besides=batch.instance_ids)
        orders = [o for o in orders if o[1] == ALERT_START or not (o[2] or o[0] in ringing_elsewhere)]
        devices = pairing.active_devices_of(session, {user_id for user_id, _, _ in orders})
        self.commands.stage_many(session, [(devices.get(user_id, []), [command]) for user_id, command, _ in orders])

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
