"""pytest fixtures for every PillPal test suite: a throwaway MariaDB/MySQL database, the project's
Mosquitto on a free port, and token keys.

The database server is found from the environment (TEST_DATABASE_URL, or DB_*), then on the default
local port, then started with testcontainers where Docker exists. The broker is the `mosquitto`
binary run with the project's own `mosquitto/mosquitto.conf` (only the port and file paths changed),
or MQTT_TEST_BROKER, or a testcontainers Mosquitto.
"""

from __future__ import annotations

import getpass
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
import pytest
from sqlalchemy.engine import make_url

from .config import MqttSettings
from .migrate import available_services, upgrade
from .tokens import TokenSigner, TokenVerifier, generate_keypair

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


def _docker_available() -> bool:
    return (
        shutil.which("docker") is not None
        and subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    )


def _unavailable(what: str) -> None:
    message = f"no {what} found (set it in the environment, run one locally, or install Docker)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


# --- database ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mysql_server_url() -> Iterator[str]:
    """A URL of a MySQL/MariaDB server (no database), on which tests may create databases."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    if os.environ.get("DB_HOST"):
        user = os.environ.get("DB_USER", "root")
        password = os.environ.get("DB_PASSWORD", "")
        auth = user + (f":{password}" if password else "")
        yield f"mysql+pymysql://{auth}@{os.environ['DB_HOST']}:{os.environ.get('DB_PORT', '3306')}/"
        return
    if port_open("127.0.0.1", 3306):
        yield "mysql+pymysql://root@127.0.0.1:3306/"
        return
    if _docker_available():
        from testcontainers.mysql import MySqlContainer

        with MySqlContainer("mariadb:10.11", dialect="pymysql") as container:
            yield make_url(container.get_connection_url()).set(database="").render_as_string(hide_password=False)
        return
    _unavailable("MySQL/MariaDB server")


@pytest.fixture(scope="session")
def database_url(mysql_server_url: str) -> Iterator[str]:
    """A throwaway database for this test run, migrated to head for every service, dropped afterwards."""
    name = f"pillpal_test_{uuid.uuid4().hex[:10]}"
    server = make_url(mysql_server_url)
    connection = pymysql.connect(
        host=server.host, port=server.port or 3306, user=server.username, password=server.password or ""
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    url = server.set(database=name, query={"charset": "utf8mb4"}).render_as_string(hide_password=False)
    for service in available_services():
        upgrade(service, url)
    try:
        yield url
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        connection.close()


# --- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    private_pem: str
    public_pem: str

    def signer(self, ttl_seconds: int = 3600) -> TokenSigner:
        from datetime import timedelta

        return TokenSigner(self.private_pem, "pillpal-auth", "pillpal", timedelta(seconds=ttl_seconds))

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(self.public_pem, "pillpal-auth", "pillpal")


@pytest.fixture(scope="session")
def keys() -> Keys:
    private, public = generate_keypair()
    return Keys(private, public)


# --- broker -----------------------------------------------------------------------------------


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


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """The project's Mosquitto config, running on a free port for this test session."""
    external = os.environ.get("MQTT_TEST_BROKER")
    if external:
        host, _, port = re.sub(r"^mqtts?://", "", external).partition(":")
        yield Broker(host, int(port or 1883))
        return
    if shutil.which("mosquitto") is None:
        _unavailable("mosquitto binary")
    instance = start_project_broker(tmp_path_factory.mktemp("mosquitto"))
    try:
        yield instance
    finally:
        if instance.process and instance.process.poll() is None:
            instance.process.terminate()
            instance.process.wait(timeout=10)


__all__ = ["Broker", "Keys", "Watcher", "broker", "database_url", "free_port", "keys", "mysql_server_url"]
