"""`make run`: the whole system on one machine, on embedded defaults.

- Database: DATABASE_URL or DB_* when set (MySQL/MariaDB), otherwise SQLite files under var/.
- Broker: MQTT_BROKER when set; otherwise the broker on 127.0.0.1:1883 if one answers; otherwise an
  embedded one (the `mosquitto` binary with the project's config, or amqtt when there is no mosquitto).
- Legacy devices (the shipped firmware's anonymous shared topics) are on.
- Token keys are made once under var/keys.
Ctrl-C stops everything.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .broker import _start_mosquitto, port_open, project_broker_config
from .config import Env, database_url
from .system import System, dev_keys, installed_services

ROOT = Path(__file__).resolve().parents[2]
SERVICE_USERS = {s: f"svc-{s}" for s in ("auth", "meds", "device-gateway", "adherence")}


def _port_open(port: int) -> bool:
    return port_open("127.0.0.1", port)


def start_embedded_broker(
    var_dir: Path, port: int = 1883, prefer_mosquitto: bool = True
) -> tuple[subprocess.Popen, dict[str, dict[str, str]], str]:  # type: ignore[type-arg]
    """Starts a broker on 127.0.0.1:`port`; returns it, per-service credentials and a description."""
    workdir = (var_dir / "mosquitto").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if prefer_mosquitto and shutil.which("mosquitto") and shutil.which("mosquitto_passwd"):
        users = {user: uuid.uuid4().hex for user in (*SERVICE_USERS.values(), "svc-ops")}
        config = project_broker_config(workdir, port, users, {"allow_anonymous": "true"})
        credentials = {s: {"MQTT_USERNAME": u, "MQTT_PASSWORD": users[u]} for s, u in SERVICE_USERS.items()}
        return _start_mosquitto(config, port), credentials, "embedded mosquitto (project config, legacy boxes allowed)"
    config = workdir / "amqtt.yaml"
    config.write_text(
        f"listeners:\n  default:\n    type: tcp\n    bind: 127.0.0.1:{port}\n"
        "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n    allow_anonymous: true\n"
    )
    with open(workdir / "amqtt.log", "ab") as log:  # its INFO lines would bury the caller's own output
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "amqtt"), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    for _ in range(100):
        if _port_open(port):
            break
        threading.Event().wait(0.1)
    credentials = {s: {"MQTT_PROTOCOL": "3.1.1"} for s in SERVICE_USERS}
    return process, credentials, "embedded amqtt (MQTT 3.1.1)"


@dataclass
class BrokerChoice:
    url: str
    description: str
    process: subprocess.Popen | None = None  # type: ignore[type-arg]  # an embedded broker we started
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)  # per-service MQTT credentials

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def choose_broker(
    env: Env, var_dir: Path, embedded_port: int = 1883, local_usable: Callable[[int], bool] = _port_open
) -> BrokerChoice:
    """MQTT_BROKER when set; else the broker on 127.0.0.1:1883 when `local_usable` says so (one answers);
    else an embedded one started on `embedded_port`."""
    if env.str("MQTT_BROKER"):
        url = env.str("MQTT_BROKER") or ""
        return BrokerChoice(url, f"{url} (from MQTT_BROKER)")
    if local_usable(1883):
        return BrokerChoice("mqtt://127.0.0.1:1883", "mqtt://127.0.0.1:1883 (the broker already running here)")
    process, service_env, kind = start_embedded_broker(var_dir, embedded_port)
    url = f"mqtt://127.0.0.1:{embedded_port}"
    return BrokerChoice(url, f"{url} ({kind})", process, service_env)


def main() -> int:
    env = Env()
    var_dir = Path(env.str("PILLPAL_VAR_DIR", "var") or "var")
    base = {"PILLPAL_LEGACY_DEVICES": env.str("PILLPAL_LEGACY_DEVICES", "1") or "1"}
    if sys.stdout.isatty() and not env.str("LOG_FORMAT"):
        base["LOG_FORMAT"] = "console"
    if not (env.str("JWT_PRIVATE_KEY") or env.str("JWT_PRIVATE_KEY_FILE")):
        base.update(dev_keys(var_dir))
    chosen = choose_broker(env, var_dir)
    broker, service_env = chosen.description, chosen.service_env
    services = installed_services()
    system = System(env=base, services=services, var_dir=var_dir, service_env=service_env, echo=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        system.start()
        databases = sorted({database_url(Env(system.environment(s)), s).split("?")[0] for s in services})
        lines = [
            "",
            "PillPal is running.",
            f"  API gateway     {system.gateway_url}   (try {system.gateway_url}/api/health)",
            *[f"  {s:<15} {system.service_url(s)}   metrics: {system.service_url(s)}/metrics" for s in services],
            f"  broker          {broker}",
            *[f"  database        {d}" for d in databases],
            "  legacy boxes    on (anonymous shared topics; see README)",
            "Press Ctrl-C to stop.",
            "",
        ]
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sys.stdout.write("\nstopping PillPal...\n")
        system.stop()
        chosen.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
