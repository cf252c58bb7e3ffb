"""`pillpal-device`: the operator's tool to register boxes and issue their credentials.

    pillpal-device register [--id PILLPAL-XXXX] [--hw-model ...] [--slots 7] [--passwd-file PATH]
    pillpal-device rotate DEVICE_ID [--passwd-file PATH]
    pillpal-device list

It prints the box's id, MQTT password and pairing code (shown once; only hashes are stored), and writes
the broker's password entry to the Mosquitto password file given by --passwd-file or
PILLPAL_MQTT_PASSWD_FILE. Mosquitto reads that file again on SIGHUP.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from pillpal_shared.config import ConfigError, Env, database_url
from pillpal_shared.db import Database, utcnow

from . import credentials
from .config import SERVICE
from .models import Compartment, Device, DeviceState
from .pairing import register_device

DEVICE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
RESERVED = {"events", "commands"}  # topic words: pillpal/device/events is form B's shared topic


@dataclass(frozen=True)
class Issued:
    device_id: str
    mqtt_username: str
    mqtt_password: str
    pairing_code: str
    mqtt_password_hash: str


class CliError(Exception):
    pass


def check_device_id(device_id: str) -> str:
    if not DEVICE_ID.match(device_id):
        raise CliError(f"{device_id!r} is not a valid box id (letters, digits, _ . : -, up to 64)")
    if device_id.lower() in RESERVED or device_id.startswith("svc-"):
        raise CliError(f"{device_id!r} is reserved (a topic word or a service's broker login)")
    return device_id


def _issue(device_id: str) -> Issued:
    password, code = credentials.new_password(), credentials.new_pairing_code()
    return Issued(device_id, device_id, password, code, credentials.mosquitto_hash(password))


def register(db: Database, device_id: str | None, *, slots: int = 0, **fields: str | None) -> Issued:
    default = "PILLPAL-" + "".join(secrets.choice(credentials.CODE_ALPHABET) for _ in range(8))
    device_id = check_device_id(device_id or default)
    issued = _issue(device_id)
    with db.transaction() as session:
        if session.get(Device, device_id) is not None:
            raise CliError(f"box {device_id} is already registered; `pillpal-device rotate` issues new secrets")
        device = register_device(session, device_id, utcnow(), **fields)
        device.mqtt_password_hash = issued.mqtt_password_hash
        device.pairing_code_hash = credentials.hash_code(issued.pairing_code)
        session.add_all(Compartment(device_id=device_id, slot_number=n) for n in range(1, slots + 1))
    return issued


def rotate(db: Database, device_id: str) -> Issued:
    issued = _issue(device_id)
    with db.transaction() as session:
        device = session.get(Device, device_id, with_for_update=True)
        if device is None:
            raise CliError(f"no box {device_id} is registered")
        device.mqtt_password_hash = issued.mqtt_password_hash
        device.pairing_code_hash = credentials.hash_code(issued.pairing_code)
    return issued


def _list(db: Database) -> list[dict[str, object]]:
    with db.transaction() as session:
        rows = session.execute(
            select(Device.device_id, Device.hw_model, Device.fw_version, DeviceState.online, DeviceState.last_seen)
            .outerjoin(DeviceState, DeviceState.device_id == Device.device_id)
            .order_by(Device.device_id)
        ).all()
    return [
        {"device_id": d, "hw_model": hw, "fw_version": fw, "online": bool(on), "last_seen": seen and seen.isoformat()}
        for d, hw, fw, on, seen in rows
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pillpal-device", description="Register PillPal boxes and their credentials.")
    parser.add_argument("--database-url", help="default: DATABASE_URL / DB_* / the SQLite file, as the service")
    parser.add_argument("--json", action="store_true", help="print JSON, for scripts")
    commands = parser.add_subparsers(dest="command", required=True)
    reg = commands.add_parser("register", help="register a new box and print its credentials")
    reg.add_argument("--id", dest="device_id", help="the box's id (default: a new PILLPAL-XXXXXXXX)")
    reg.add_argument("--hw-model")
    reg.add_argument("--fw-version")
    reg.add_argument("--nickname")
    reg.add_argument("--slots", type=int, default=0, help="number of compartments to create")
    rot = commands.add_parser("rotate", help="issue a box a new MQTT password and pairing code")
    rot.add_argument("device_id")
    for sub in (reg, rot):
        sub.add_argument("--passwd-file", type=Path, help="Mosquitto password file (or PILLPAL_MQTT_PASSWD_FILE)")
    commands.add_parser("list", help="list the registered boxes")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = Env()
    try:
        db = Database(args.database_url or database_url(env, SERVICE))
        if args.command == "list":
            _out(_list(db), args.json)
            return 0
        if args.command == "register":
            fields = {"hw_model": args.hw_model, "fw_version": args.fw_version, "nickname": args.nickname}
            issued = register(db, args.device_id, slots=args.slots, **fields)
        else:
            issued = rotate(db, args.device_id)
        passwd = args.passwd_file or (Path(p) if (p := env.str("PILLPAL_MQTT_PASSWD_FILE")) else None)
        if passwd:
            credentials.write_passwd_entry(passwd, issued.mqtt_username, issued.mqtt_password_hash)
        shown = {k: v for k, v in asdict(issued).items() if k != "mqtt_password_hash"}
        _out({**shown, "passwd_file": str(passwd) if passwd else None}, args.json)
        if not passwd:
            sys.stderr.write("note: no password file given; add the entry with mosquitto_passwd\n")
        return 0
    except (CliError, ConfigError) as exc:
        sys.stderr.write(f"pillpal-device: {exc}\n")
        return 1
    except OperationalError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        sys.stderr.write(f"pillpal-device: database unreachable or not migrated (make migrate): {reason}\n")
        return 1


def _out(value: object, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(value, indent=2) + "\n")
    elif isinstance(value, dict):
        sys.stdout.write("\n".join(f"{k:<14} {v}" for k, v in value.items()) + "\n")
    else:
        for row in value:  # type: ignore[attr-defined]
            sys.stdout.write("  ".join(str(v) for v in row.values()) + "\n")
