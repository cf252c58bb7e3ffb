"""pytest fixtures for every PillPal test suite: a throwaway MariaDB/MySQL database, the project's
Mosquitto on a free port, and token keys.

The database server is found from the environment (TEST_DATABASE_URL, or DB_*), then on the default
local port, then started with testcontainers where Docker exists. The broker is the `mosquitto`
binary run with the project's own `mosquitto/mosquitto.conf` (only the port and file paths changed),
or MQTT_TEST_BROKER, or a testcontainers Mosquitto.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import make_url

from .broker import Broker, Watcher, free_port, port_open, start_project_broker
from .migrate import scratch_database
from .tokens import TokenSigner, TokenVerifier, generate_keypair


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
    with scratch_database(mysql_server_url, "pillpal_test") as url:
        yield url


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


def _project_broker(
    tmp_path_factory: pytest.TempPathFactory, name: str, extra: dict[str, str] | None
) -> Iterator[Broker]:
    external = os.environ.get("MQTT_TEST_BROKER")
    if external:
        host, _, port = re.sub(r"^mqtts?://", "", external).partition(":")
        yield Broker(host, int(port or 1883))
        return
    if shutil.which("mosquitto") is None:
        _unavailable("mosquitto binary")
    instance = start_project_broker(tmp_path_factory.mktemp(name), extra)
    try:
        yield instance
    finally:
        if instance.process and instance.process.poll() is None:
            instance.process.terminate()
            instance.process.wait(timeout=10)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """The project's Mosquitto config, running on a free port for this test session."""
    yield from _project_broker(tmp_path_factory, "mosquitto", None)


@pytest.fixture(scope="session")
def legacy_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """The same config in legacy mode (PILLPAL_LEGACY_DEVICES=1, as `make run` and the demo use it):
    anonymous clients, the shipped firmware, are let in; the ACL holds them to the shared legacy topics."""
    yield from _project_broker(tmp_path_factory, "legacy-mosquitto", {"allow_anonymous": "true"})


__all__ = [
    "Broker",
    "Keys",
    "Watcher",
    "broker",
    "database_url",
    "free_port",
    "keys",
    "legacy_broker",
    "mysql_server_url",
]
