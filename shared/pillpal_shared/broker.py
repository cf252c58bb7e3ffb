"""Running the project's Mosquitto config on one machine: for `make run`'s embedded broker, the test
fixtures and the benchmarks. Only the listener port and file paths are changed from mosquitto/mosquitto.conf."""

from __future__ import annotations

import getpass
import json
import queue
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import MqttSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICE_USERS = ("svc-auth", "svc-meds", "svc-device-gateway", "svc-adherence", "svc-ops")
TEST_BOXES = ("box-1", "box-2", "box-3", "PILLPAL-001", "1", "2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class Broker:
    host: str
    port: int
    passwords: dict[str, str] = field(default_factory=dict)
    config_path: Path | None = None
    process: subprocess.Popen | None = None  # type: ignore[type-arg]

    def settings(self, username: str | None = "svc-ops", client_id: str | None = None) -> MqttSettings:
        return MqttSettings(
            host=self.host,
            port=self.port,
            tls=False,
            username=username,
            password=self.passwords.get(username) if username else None,
            client_id=client_id or f"test-{uuid.uuid4().hex[:12]}",
            share_group=None,
            protocol="5",
            session_expiry=3600,
        )

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def kill(self) -> None:
        """kill -9, as a crash would."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def restart(self) -> None:
        assert self.config_path is not None
        self.process = _start_mosquitto(self.config_path, self.port)

    def watch(self, topic: str, username: str = "svc-ops") -> Watcher:
        """An observer subscribed to `topic` (a filter), ready once this returns."""
        return Watcher(self.settings(username), topic)


class Watcher:
    """Collects what arrives on a topic filter: parsed JSON, or the raw bytes when it is not JSON."""

    def __init__(self, settings: MqttSettings, topic: str) -> None:
        from .bus import BusClient

        self.received: queue.Queue[Any] = queue.Queue()
        subscribed = threading.Event()
        self.bus = BusClient(settings, subscriptions=[topic])
        self.bus.client.on_message = lambda _c, _u, m: self.received.put(_json_or_bytes(m.payload))
        self.bus.client.on_subscribe = lambda *_args: subscribed.set()
        self.bus.start()
        if not subscribed.wait(10):
            raise RuntimeError(f"could not subscribe to {topic}")

    def collect(self, until: Callable[[list[Any]], bool] | None = None, wait: float = 5.0) -> list[Any]:
        """Everything received within `wait` seconds; once `until(items)` holds, half a second more
        (to catch a duplicate) and no longer."""
        items: list[Any] = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                items.append(self.received.get(timeout=0.05))
            except queue.Empty:
                pass
            if until is not None and until(items):
                deadline = min(deadline, time.monotonic() + 0.5)
        return items

    def stop(self) -> None:
        self.bus.stop()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _json_or_bytes(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload


def project_broker_config(workdir: Path, port: int, users: dict[str, str], extra: dict[str, str] | None = None) -> Path:
    """The project's mosquitto.conf with the listener port and file paths moved into `workdir`."""
    source = (ROOT / "mosquitto" / "mosquitto.conf").read_text()
    passwd = workdir / "passwd"
    passwd.write_text("")
    for user, password in users.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True, capture_output=True)
    shutil.copy(ROOT / "mosquitto" / "acl", workdir / "acl")
    (workdir / "data").mkdir(exist_ok=True)
    overrides = {
        "listener": f"{port} 127.0.0.1",
        "password_file": str(passwd),
        "acl_file": str(workdir / "acl"),
        "persistence_location": f"{workdir / 'data'}/",
        "log_dest": f"file {workdir / 'mosquitto.log'}",
        # Mosquitto started as root drops to the `mosquitto` user, which cannot read a private temp dir.
        "user": getpass.getuser(),
        **(extra or {}),
    }
    lines = []
    for line in source.splitlines():
        key = line.split(" ", 1)[0]
        if key in overrides:
            lines.append(f"{key} {overrides.pop(key)}")
        else:
            lines.append(line)
    lines += [f"{k} {v}" for k, v in overrides.items()]
    config = workdir / "mosquitto.conf"
    config.write_text("\n".join(lines) + "\n")
    return config


def _start_mosquitto(config: Path, port: int) -> subprocess.Popen:  # type: ignore[type-arg]
    process = subprocess.Popen(["mosquitto", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not port_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"mosquitto did not start: {process.stderr.read().decode() if process.stderr else ''}")
        time.sleep(0.05)
    return process


def start_project_broker(workdir: Path, extra: dict[str, str] | None = None) -> Broker:
    users = {u: uuid.uuid4().hex for u in (*SERVICE_USERS, *TEST_BOXES)}
    port = free_port()
    config = project_broker_config(workdir, port, users, extra)
    return Broker("127.0.0.1", port, users, config, _start_mosquitto(config, port))
