"""Commands to the boxes: the plain-text words the shipped firmware obeys (CONTRACTS.md section 2).

Commands are staged in the gateway's outbox, in the same transaction as the decision that caused
them, so a crash never loses one; the outbox relay publishes them in order, confirmed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import insert
from sqlalchemy.orm import Session

from pillpal_shared.db import utcnow

from .models import OUTBOX

ALERT_START = "ALERT_START"
ALERT_STOP = "ALERT_STOP"
LEGACY_TOPIC = "pillpal/device/commands"  # one firmware build listens here, shared by every box
PREFERENCE_WORDS = {"sound": "SOUND", "vibration": "VIB", "led": "LED"}


def command_topic(device_id: str) -> str:
    return f"pillpal/device/{device_id}/commands"


def preference_commands(preferences: dict[str, bool]) -> list[str]:
    """{"sound": True, "led": False} -> ["SET_PREF_SOUND_ON", "SET_PREF_LED_OFF"], in a fixed order."""
    return [
        f"SET_PREF_{word}_{'ON' if preferences[name] else 'OFF'}"
        for name, word in PREFERENCE_WORDS.items()
        if name in preferences
    ]


class Commands:
    def __init__(self, legacy: bool) -> None:
        self.legacy = legacy

    def stage(self, session: Session, device_ids: Iterable[str], commands: list[str]) -> int:
        """Stages each command for each box (and on the shared topic in legacy mode); returns the count."""
        return self.stage_many(session, [(device_ids, commands)])

    def stage_many(self, session: Session, orders: Iterable[tuple[Iterable[str], list[str]]]) -> int:
        """`stage` for each (boxes, commands) in turn, in one insert; returns the count."""
        now = utcnow()
        rows = []
        for device_ids, commands in orders:
            topics = [command_topic(d) for d in device_ids]
            if not topics or not commands:
                continue
            if self.legacy:
                topics.append(LEGACY_TOPIC)
            rows.extend(
                {
                    "event_id": uuid.uuid4().hex,
                    "event_type": "command",
                    "topic": topic,
                    "payload": command,
                    "created_at": now,
                }
                for command in commands
                for topic in topics
            )
        if rows:
            session.execute(insert(OUTBOX.table), rows)
        return len(rows)
