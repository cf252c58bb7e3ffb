"""Boxes and who holds them. A box is paired to at most one user at a time (a unique index enforces it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pillpal_shared.envelope import new_event
from pillpal_shared.errors import ApiError

from .credentials import check_code
from .models import OUTBOX, Device, DevicePairing, DeviceState

SOURCE = "device-gateway"
NOT_FOUND = "No box with this id and pairing code; check the code on the box's label"


@dataclass(frozen=True)
class BoxView:
    device_id: str
    nickname: str | None
    hw_model: str | None
    fw_version: str | None
    online: bool
    last_seen: datetime | None
    battery_percent: int | None
    rssi: int | None
    paired_at: datetime


def register_device(session: Session, device_id: str, now: datetime, **fields: str | None) -> Device:
    device = Device(device_id=device_id, created_at=now, **fields)
    session.add(device)
    session.add(DeviceState(device_id=device_id, online=False))
    session.flush()
    return device


def pair(session: Session, user_id: int, device_id: str, code: str | None, legacy: bool, now: datetime) -> bool:
    """Pairs the box to the user; True when a new pairing was made, False when they already held it."""
    device = session.get(Device, device_id, with_for_update=True)
    if device is None and legacy:
        try:  # the shipped firmware was never registered
            device = register_device(session, device_id, now)
        except IntegrityError:
            raise ApiError(409, "This box is being paired by another account") from None
    elif device is None or not (legacy or check_code(code or "", device.pairing_code_hash)):
        raise ApiError(404, NOT_FOUND, {"pairing_code": ["Unknown box or wrong code."]})
    holder = current_owner(session, device_id)
    if holder == user_id:
        return False
    if holder is not None:
        raise ApiError(409, "This box is paired to another account; it must be unpaired there first")
    session.add(
        DevicePairing(user_id=user_id, device_id=device_id, active=True, active_device_id=device_id, paired_at=now)
    )
    try:
        session.flush()
    except IntegrityError:
        raise ApiError(409, "This box is paired to another account; it must be unpaired there first") from None
    OUTBOX.add(session, _event("pairing.created", device_id, user_id, now))
    return True


def unpair(session: Session, user_id: int, device_id: str, now: datetime) -> None:
    pairing = session.scalar(
        select(DevicePairing)
        .where(DevicePairing.active_device_id == device_id, DevicePairing.user_id == user_id)
        .with_for_update()
    )
    if pairing is None:
        raise ApiError(404, "You have no box with this id")
    _end(session, pairing, now)


def forget_user(session: Session, user_id: int, now: datetime) -> list[str]:
    """A deleted account: its pairings end (announced) and its pairing history is erased."""
    pairings = session.scalars(select(DevicePairing).where(DevicePairing.user_id == user_id)).all()
    devices = [p.device_id for p in pairings if p.active]
    for pairing in pairings:
        if pairing.active:
            _end(session, pairing, now)
        session.delete(pairing)
    return devices


def _end(session: Session, pairing: DevicePairing, now: datetime) -> None:
    pairing.active = False
    pairing.active_device_id = None
    pairing.unpaired_at = now
    OUTBOX.add(session, _event("pairing.removed", pairing.device_id, pairing.user_id, now))


def current_owner(session: Session, device_id: str) -> int | None:
    return session.scalar(select(DevicePairing.user_id).where(DevicePairing.active_device_id == device_id))


def active_devices(session: Session, user_id: int) -> list[str]:
    return active_devices_of(session, {user_id}).get(user_id, [])


def active_devices_of(session: Session, user_ids: set[int]) -> dict[int, list[str]]:
    """Each user's paired boxes, oldest pairing first, in one query (users with none are left out)."""
    devices: dict[int, list[str]] = {}
    if not user_ids:
        return devices
    rows = session.execute(
        select(DevicePairing.user_id, DevicePairing.device_id)
        .where(DevicePairing.user_id.in_(user_ids), DevicePairing.active.is_(True))
        .order_by(DevicePairing.paired_at)
    )
    for user_id, device_id in rows:
        devices.setdefault(user_id, []).append(device_id)
    return devices


def list_boxes(session: Session, user_id: int) -> list[BoxView]:
    rows = session.execute(
        select(Device, DeviceState, DevicePairing.paired_at)
        .join(DevicePairing, DevicePairing.device_id == Device.device_id)
        .outerjoin(DeviceState, DeviceState.device_id == Device.device_id)
        .where(DevicePairing.user_id == user_id, DevicePairing.active.is_(True))
        .order_by(DevicePairing.paired_at)
    ).all()
    return [
        BoxView(
            device.device_id,
            device.nickname,
            device.hw_model,
            device.fw_version,
            bool(state and state.online),
            state.last_seen if state else None,
            state.battery_percent if state else None,
            state.rssi if state else None,
            paired_at,
        )
        for device, state, paired_at in rows
    ]


def _event(event_type: str, device_id: str, user_id: int, now: datetime):  # type: ignore[no-untyped-def]
    return new_event(event_type, {"device_id": device_id, "user_id": user_id}, {"at": now}, source=SOURCE)
