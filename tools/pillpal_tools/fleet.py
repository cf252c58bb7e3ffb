"""Many simulated boxes at once: connect them, drive events at a rate, report, stop them.

One process holds at most PER_PROCESS boxes: paho waits on its sockets with select(), which cannot
watch a file descriptor above 1023, and every box uses three. `pillpal-sim` runs more in several
processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .box import SimulatedBox

PER_PROCESS = 300


@dataclass(frozen=True)
class Plan:
    events: list[str]  # each box cycles through these
    rate: float = 0.0  # events per second over all boxes; 0 with `total`: as fast as possible
    duration: float = 0.0  # seconds; 0: until `total` or stop
    total: int = 0  # events in all; 0: no limit
    report_every: float = 5.0


def connect(boxes: list[SimulatedBox], timeout: float = 30.0) -> list[SimulatedBox]:
    """Starts every box at once; returns those that did not connect in time (or were refused)."""
    for box in boxes:
        box.start(wait=0)
    deadline = time.monotonic() + timeout
    for box in boxes:
        while not box.wait_connected(0.05) and not box.refused and time.monotonic() < deadline:
            pass
    return [box for box in boxes if not box.wait_connected(0)]


def status(boxes: list[SimulatedBox], started: float) -> str:
    commands = sum(sum(box.command_counts.values()) for box in boxes)
    return (
        f"t={time.monotonic() - started:5.1f}s  sent={sum(b.sent for b in boxes)}"
        f"  confirmed={sum(b.confirmed for b in boxes)}  commands={commands}"
        f"  alerts={sum(b.alerts for b in boxes)}  lid_openings={sum(b.lid_openings for b in boxes)}"
        f"  alerting_now={sum(b.alerting for b in boxes)}"
    )


def drive(boxes: list[SimulatedBox], plan: Plan, stop: threading.Event, report: Callable[[str], None]) -> None:
    """Sends the plan's events round robin over the boxes until its duration or total, or `stop`."""
    started = next_report = time.monotonic()
    sent = 0
    while not stop.is_set():
        now = time.monotonic()
        if (plan.duration and now - started >= plan.duration) or (plan.total and sent >= plan.total):
            return
        if now >= next_report:
            report(status(boxes, started))
            next_report = now + plan.report_every
        if plan.rate <= 0 and not plan.total:  # only listening, for alerts
            stop.wait(min(0.5, max(0.0, next_report - now)))
            continue
        due = started + sent / plan.rate if plan.rate > 0 else now
        if due > now:
            stop.wait(min(due - now, 0.5))
            continue
        boxes[sent % len(boxes)].send(plan.events[(sent // len(boxes)) % len(plan.events)])
        sent += 1


def settle(boxes: list[SimulatedBox], timeout: float = 10.0) -> int:
    """Waits for the broker to confirm what is in flight; returns how many publishes stay unconfirmed."""
    deadline = time.monotonic() + timeout
    for box in boxes:
        box.wait_until(lambda b: b.confirmed >= b.sent, timeout=max(0.0, deadline - time.monotonic()))
    return sum(b.sent for b in boxes) - sum(b.confirmed for b in boxes)


def stop_all(boxes: list[SimulatedBox]) -> None:
    """Disconnects every box first, then ends their threads, so they stop together."""
    for box in boxes:
        box.disconnect()
    for box in boxes:
        box.client.loop_stop()
