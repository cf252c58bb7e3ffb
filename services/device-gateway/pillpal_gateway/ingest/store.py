"""The ingest's database work, one read and one write per batch: which boxes exist, who held them when,
whether they were online; then every box's new state in a single upsert."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..models import Device, DevicePairing, DeviceState
from .tracker import BoxChange

PAIRING_GRACE = timedelta(minutes=5)


@dataclass
class KnownBox:
    online: bool
    pairings: list[tuple[int, datetime, datetime | None]] = field(default_factory=list)

    def owner_at(self, moment: datetime) -> int | None:
        """The user whose pairing covered `moment` (the latest such pairing, should there be several).
        A box clock a little slow must not lose the first events after pairing: a pairing that began
        within PAIRING_GRACE after `moment` counts too."""
        best: tuple[datetime, int] | None = None
        for user_id, start, end in self.pairings:
            if start - PAIRING_GRACE <= moment and (end is None or moment < end) and (best is None or start > best[0]):
                best = (start, user_id)
        return best[1] if best else None

    @property
    def current_owner(self) -> int | None:
        return next((user_id for user_id, _, end in self.pairings if end is None), None)


def load(session: Session, device_ids: Iterable[str]) -> dict[str, KnownBox]:
    ids = list(set(device_ids))
    rows = session.execute(
        select(Device.device_id, DeviceState.online)
        .outerjoin(DeviceState, DeviceState.device_id == Device.device_id)
        .where(Device.device_id.in_(ids))
    )
    known = {device_id: KnownBox(bool(online)) for device_id, online in rows}
    p = DevicePairing
    pairings = session.execute(
        select(p.device_id, p.user_id, p.paired_at, p.unpaired_at).where(p.device_id.in_(list(known)))
    )
    for device_id, user_id, start, end in pairings:
        known[device_id].pairings.append((user_id, start, end))
    return known


def save(session: Session, changes: list[BoxChange]) -> None:
    """One multi-row upsert for the batch; a value the batch did not carry keeps its stored one."""
    if not changes:
        return
    table = DeviceState.__table__
    rows = [
        {
            "device_id": c.device_id,
            "online": c.online,
            "last_seen": c.last_seen,
            "battery_percent": c.battery_percent,
            "rssi": c.rssi,
        }
        for c in changes
    ]
    if session.get_bind().dialect.name == "mysql":
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        statement = mysql_insert(table).values(rows)
        new = statement.inserted
        statement = statement.on_duplicate_key_update(_merge(table, new))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["device_id"], set_=_merge(table, statement.excluded)
        )
    session.execute(statement)
    for change in changes:
        if change.fw_version is not None:
            session.execute(
                update(Device).where(Device.device_id == change.device_id).values(fw_version=change.fw_version)
            )


def _merge(table, new) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return {
        "online": new.online,
        "last_seen": func.coalesce(new.last_seen, table.c.last_seen),
        "battery_percent": func.coalesce(new.battery_percent, table.c.battery_percent),
        "rssi": func.coalesce(new.rssi, table.c.rssi),
    }
