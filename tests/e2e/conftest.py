"""The whole system as it runs in production, on one machine: the four services under gunicorn with their
MQTT workers, nginx in front (the config rendered from the route table), the real MariaDB and the
project's Mosquitto in legacy mode (the shipped firmware logs in anonymously). Started once for the e2e
tests of this session."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest

from pillpal_shared.broker import free_port
from pillpal_shared.system import PACKAGES, System, dev_keys


@pytest.fixture(scope="session")
def system(tmp_path_factory, legacy_broker, database_url) -> Iterator[System]:
    if shutil.which("nginx") is None:
        (pytest.fail if os.environ.get("CI") else pytest.skip)("nginx is not installed (apt-get install nginx)")
    var = tmp_path_factory.mktemp("e2e-system")
    run = uuid.uuid4().hex[:8]
    env = {
        "DATABASE_URL": database_url,
        "MQTT_BROKER": legacy_broker.url,
        "PILLPAL_LEGACY_DEVICES": "1",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "PILLPAL_VAR_DIR": str(var),
        **dev_keys(var),
    }
    credentials = {
        service: {
            "MQTT_USERNAME": f"svc-{service}",
            "MQTT_PASSWORD": legacy_broker.passwords[f"svc-{service}"],
            "MQTT_CLIENT_ID": f"e2e-{service}-{run}",
        }
        for service in PACKAGES
    }
    running = System(
        env=env,
        services=list(PACKAGES),
        var_dir=var,
        gateway="nginx",
        gateway_port=free_port(),
        ports={service: free_port() for service in PACKAGES},
        service_env=credentials,
        http_workers=2,
        rate_limit=False,  # every test registers users; the limit itself is tested in shared/tests
    )
    with running:
        yield running
