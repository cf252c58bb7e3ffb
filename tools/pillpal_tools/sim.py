"""pillpal-sim: N simulated pillboxes against any broker, for load and soak tests.

    pillpal-sim --count 50 --rate 20 --duration 60             # 50 firmware boxes, 20 events/s in all
    pillpal-sim --form device --credentials boxes.txt --open-lid-on-alert 3
    pillpal-sim --count 5 --username svc-ops --open-lid-on-alert   # listen for alerts, take the pill

It prints what the boxes sent and heard every few seconds and a summary at the end; it exits 1 when a
box could not connect or a publish was not confirmed by the broker. More than PER_PROCESS boxes run
in several processes, each with its share of the boxes, the rate and the total.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .box import FORMS, SimulatedBox
from .fleet import PER_PROCESS, Plan, connect, drive, settle, status, stop_all

DEFAULT_EVENTS = {"B": "lid_opened,lid_closed", "A": "pill_taken", "device": "lid_opened,lid_closed"}


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - a command's own output


def load_credentials(path: Path) -> dict[str, str]:
    """Box id -> MQTT password, from lines `<id> <password>` or JSON objects (pillpal-device's output)."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            item = json.loads(line)
            found[str(item["device_id"])] = item["mqtt_password"]
        else:
            device_id, _, password = line.partition(" ")
            found[device_id] = password.strip()
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pillpal-sim", description="Simulated pillboxes against a broker.")
    parser.add_argument("--broker", default=os.environ.get("MQTT_BROKER", "mqtt://127.0.0.1:1883"))
    parser.add_argument("--count", type=int, help="how many boxes (default 1, or all in --credentials)")
    parser.add_argument("--prefix", default="sim-", help="box ids are <prefix><n> (default sim-)")
    parser.add_argument("--first-id", type=int, default=1, help="the first n (default 1)")
    parser.add_argument("--form", choices=FORMS, default="B", help="B: shipped firmware (default); A: seed; device")
    parser.add_argument("--username", help="one MQTT login for every box (default: none, or the box id)")
    parser.add_argument("--password", default=os.environ.get("MQTT_PASSWORD"), help="or MQTT_PASSWORD")
    parser.add_argument("--credentials", type=Path, help="per-box passwords: lines '<id> <password>' or JSON")
    parser.add_argument("--rate", type=float, default=0.0, help="events/s over all boxes (0: none, or --total at once)")
    parser.add_argument("--events", help="events each box cycles through (default: by form)")
    parser.add_argument("--duration", type=float, default=0.0, help="seconds to run (default: until Ctrl-C)")
    parser.add_argument("--total", type=int, default=0, help="stop after this many events (default: no limit)")
    parser.add_argument("--open-lid-on-alert", type=float, nargs="?", const=2.0, metavar="SECONDS")
    parser.add_argument("--no-shared-commands", action="store_true", help="form B: ignore pillpal/device/commands")
    parser.add_argument("--qos", type=int, choices=(0, 1), default=1)
    parser.add_argument("--report-every", type=float, default=5.0)
    parser.add_argument("--skip", type=int, default=0, help=argparse.SUPPRESS)  # a process's slice of --credentials
    return parser.parse_args(argv)


def box_ids(args: argparse.Namespace, passwords: dict[str, str]) -> list[str]:
    if passwords:
        ids = list(passwords)[args.skip :]
        return ids[: args.count] if args.count else ids
    return [f"{args.prefix}{args.first_id + n}" for n in range(args.count or 1)]


def make_boxes(args: argparse.Namespace, ids: list[str], passwords: dict[str, str]) -> list[SimulatedBox]:
    return [
        SimulatedBox(
            device_id,
            args.broker,
            form=args.form,
            username=args.username or (device_id if args.form == "device" or device_id in passwords else None),
            password=passwords.get(device_id, args.password),
            open_lid_after=args.open_lid_on_alert,
            listen_shared=False if args.no_shared_commands else None,
            qos=args.qos,
        )
        for device_id in ids
    ]


def fan_out(argv: list[str], args: argparse.Namespace, count: int) -> int:
    """Runs the boxes in ceil(count / PER_PROCESS) processes, each with its share; the worst exit wins."""
    processes = math.ceil(count / PER_PROCESS)
    say(f"pillpal-sim: {count} boxes in {processes} processes")
    children = []
    for n in range(processes):
        first, share = n * PER_PROCESS, min(PER_PROCESS, count - n * PER_PROCESS)
        extra = ["--count", str(share), "--first-id", str(args.first_id + first), "--skip", str(args.skip + first)]
        extra += ["--rate", str(args.rate * share / count)]
        if args.total:
            extra += ["--total", str(args.total * (first + share) // count - args.total * first // count)]
        children.append(subprocess.Popen([sys.executable, "-m", "pillpal_tools.sim", *argv, *extra]))

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward), signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # Ctrl-C reaches the children from the terminal themselves
        return max(child.wait() for child in children)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    passwords = load_credentials(args.credentials) if args.credentials else {}
    ids = box_ids(args, passwords)
    if len(ids) > PER_PROCESS:
        return fan_out(argv, args, len(ids))
    boxes = make_boxes(args, ids, passwords)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    say(f"pillpal-sim: {len(boxes)} form {args.form} boxes ({ids[0]}..{ids[-1]}) on {args.broker}")
    failed = connect(boxes)
    if failed:
        first = failed[0]
        say(f"{len(failed)} boxes did not connect; {first.device_id}: {first.refused or 'no answer from the broker'}")
    events = (args.events or DEFAULT_EVENTS[args.form]).split(",")
    plan = Plan(events, args.rate, args.duration, args.total, args.report_every)
    started = time.monotonic()
    try:
        alive = [box for box in boxes if box not in failed]
        if alive:
            drive(alive, plan, stop, say)
        unconfirmed = settle(boxes)
    finally:
        say(status(boxes, started))
        stop_all(boxes)
    elapsed = time.monotonic() - started
    say(f"done: {sum(b.sent for b in boxes) / max(elapsed, 1e-9):.1f} messages/s, {unconfirmed} unconfirmed")
    return 1 if failed or unconfirmed else 0


if __name__ == "__main__":
    raise SystemExit(main())
