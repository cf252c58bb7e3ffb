"""Folds one batch of readings into one state change per box (pure logic), so a batch costs one write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .reading import Reading


@dataclass
class BoxChange:
    device_id: str
    online: bool
    was_online: bool
    last_seen: datetime | None = None
    battery_percent: int | None = None
    rssi: int | None = None
    fw_version: str | None = None
    reported_taken: bool = False  # the box said a pill was taken: its resync must not ring again

    @property
    def came_online(self) -> bool:
        return self.online and not self.was_online

    @property
    def went_offline(self) -> bool:
        return self.was_online and not self.online


class StateTracker:
    """A box is online after any message of its own and offline after its `offline` status (the last
    will). A retained status says where a box stands but not that it was just seen."""

    def __init__(self, was_online: dict[str, bool]) -> None:
        self._was_online = was_online
        self._changes: dict[str, BoxChange] = {}

    def saw(self, reading: Reading, received_at: datetime, retained: bool = False) -> None:
        change = self._changes.get(reading.device_id)
        if change is None:
            was = self._was_online.get(reading.device_id, False)
            change = self._changes[reading.device_id] = BoxChange(reading.device_id, was, was)
        if reading.online is not None:
            change.online = reading.online
        elif not retained:
            change.online = True
        if not retained and (change.last_seen is None or received_at > change.last_seen):
            change.last_seen = received_at
        if reading.event_type == "device.pill_taken":
            change.reported_taken = True
        if reading.battery_percent is not None:
            change.battery_percent = reading.battery_percent
        if reading.rssi is not None:
            change.rssi = reading.rssi
        if reading.fw_version is not None:
            change.fw_version = reading.fw_version

    def changes(self) -> list[BoxChange]:
        return list(self._changes.values())
