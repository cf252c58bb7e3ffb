"""A user's notification settings: what their pillbox does when a dose is due (sound, vibration, LED)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pillpal_shared.envelope import new_event

from .models import OUTBOX, NotificationSettings

SOURCE = "device-gateway"
BOX_FLAGS = ("sound", "vibration", "led")  # the three the box obeys (SET_PREF_*)


@dataclass(frozen=True)
class Preferences:
    sound: bool = True
    vibration: bool = True
    led: bool = True
    lead_minutes_default: int = 5
    dyslexia_font: bool = False

    def box_flags(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in BOX_FLAGS}


def get(session: Session, user_id: int) -> Preferences:
    row = session.get(NotificationSettings, user_id)
    return _from_row(row) if row else Preferences()


def get_many(session: Session, user_ids: set[int]) -> dict[int, Preferences]:
    """`get` for several users in one query."""
    found = {}
    if user_ids:
        rows = session.scalars(select(NotificationSettings).where(NotificationSettings.user_id.in_(user_ids)))
        found = {row.user_id: _from_row(row) for row in rows}
    return {user_id: found.get(user_id, Preferences()) for user_id in user_ids}


Changed = dict[str, bool]


def update(session: Session, user_id: int, changes: dict[str, Any], now: datetime) -> tuple[Preferences, Changed]:
    """Applies the changes; returns the new preferences and the box flags that changed."""
    row = session.get(NotificationSettings, user_id, with_for_update=True)
    before = _from_row(row) if row else Preferences()
    after = replace(before, **{f.name: changes[f.name] for f in fields(Preferences) if f.name in changes})
    if after == before:
        return after, {}
    if row is None:
        row = NotificationSettings(user_id=user_id)
        session.add(row)
    row.sound_enabled, row.vibration_enabled, row.led_enabled = after.sound, after.vibration, after.led
    row.lead_minutes_default, row.dyslexia_font = after.lead_minutes_default, after.dyslexia_font
    row.updated_at = now
    OUTBOX.add(
        session, new_event("settings.updated", {"user_id": user_id}, after.box_flags(), source=SOURCE, occurred_at=now)
    )
    changed = {name: value for name, value in after.box_flags().items() if before.box_flags()[name] != value}
    return after, changed


def forget_user(session: Session, user_id: int) -> None:
    session.execute(delete(NotificationSettings).where(NotificationSettings.user_id == user_id))


def _from_row(row: NotificationSettings) -> Preferences:
    return Preferences(
        sound=row.sound_enabled,
        vibration=row.vibration_enabled,
        led=row.led_enabled,
        lead_minutes_default=row.lead_minutes_default,
        dyslexia_font=row.dyslexia_font,
    )
