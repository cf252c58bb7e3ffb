"""Runs a service's background parts (consumers, outbox relay, engines) as threads of one process,
and stops them all on SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)
Part = Callable[[threading.Event], None]


def run_parts(parts: dict[str, Part], stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.info("worker_stopping", signal=signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

    def guarded(name: str, part: Part) -> None:
        try:
            part(stop)
        except Exception:  # noqa: BLE001 - one part failing stops the process, so its supervisor restarts it
            log.exception("worker_part_crashed", part=name)
            stop.set()

    threads = [threading.Thread(target=guarded, args=(n, p), name=n, daemon=True) for n, p in parts.items()]
    for thread in threads:
        thread.start()
    log.info("worker_started", parts=list(parts))
    stop.wait()
    for thread in threads:
        thread.join(timeout=10)
    log.info("worker_stopped")
