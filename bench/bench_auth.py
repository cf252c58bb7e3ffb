"""Auth: logins per second at the chosen argon2id parameters, and GET /api/auth/me through the gateway.

Runs auth under gunicorn (2 sync workers) behind nginx rendered from the route table, on a throwaway
MariaDB database, with wrk (2 threads, 16 connections).
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request
from pathlib import Path

from argon2 import PasswordHasher, Type

from bench.common import bench_broker, bench_database, duration, ensure_wrk, service_credentials, wrk
from pillpal_auth.config import load_settings
from pillpal_shared.system import System, dev_keys
from pillpal_shared.testing import free_port


def hash_rate(settings) -> str:  # type: ignore[no-untyped-def]
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )
    digest = hasher.hash("correct horse battery")
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < 3:
        hasher.verify(digest, "correct horse battery")
        count += 1
    per_second = count / (time.perf_counter() - started)
    return (
        f"argon2id m={settings.argon2_memory_kib} KiB t={settings.argon2_time_cost} p={settings.argon2_parallelism}: "
        f"{per_second:.1f} verifications/s on one core ({1000 / per_second:.1f} ms each)"
    )


def post(url: str, body: dict) -> dict:  # type: ignore[type-arg]
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def main() -> None:
    ensure_wrk()
    var = Path(tempfile.mkdtemp(prefix="pillpal-bench-auth-"))
    keys = dev_keys(var)
    settings = load_settings({"JWT_PUBLIC_KEY": "unused", "JWT_PRIVATE_KEY": "unused"})
    print(hash_rate(settings), flush=True)
    seconds = duration()
    with bench_database() as url, bench_broker() as broker:
        env = {"DATABASE_URL": url, "MQTT_BROKER": broker.url, "LOG_LEVEL": "WARNING", **keys}
        system = System(
            env=env,
            services=["auth"],
            var_dir=var,
            gateway="nginx",
            gateway_port=free_port(),
            ports={"auth": free_port()},
            service_env=service_credentials(broker),
            rate_limit=False,
        )
        with system:
            base = system.gateway_url
            token = post(f"{base}/api/auth/register", {"email": "bench@example.com", "password": "correct horse"})[
                "token"
            ]
            me = wrk(f"{base}/api/auth/me", {"Authorization": f"Bearer {token}"}, seconds)
            print(me.line("GET /api/auth/me through nginx, 2 sync workers"), flush=True)
            script = var / "login.lua"
            script.write_text(
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                'wrk.body = \'{"email": "bench@example.com", "password": "correct horse"}\'\n'
            )
            login = wrk(f"{base}/api/auth/login", {}, min(seconds, 15), script=str(script))
            print(login.line("POST /api/auth/login through nginx, 2 sync workers"), flush=True)
