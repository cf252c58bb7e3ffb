"""Starts the whole system on one machine: each service under gunicorn plus its MQTT worker, and a
gateway (the dev proxy or nginx) in front. Used by `make run`, the demo, end-to-end tests and benchmarks.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .config import Env, database_url
from .migrate import upgrade
from .routes import UPSTREAMS
from .tokens import generate_keypair

PACKAGES = {
    "auth": "pillpal_auth",
    "meds": "pillpal_meds",
    "device-gateway": "pillpal_gateway",
    "adherence": "pillpal_adherence",
}


def installed_services() -> list[str]:
    """The services whose code exists (a wsgi module and a worker)."""
    found = []
    for service, package in PACKAGES.items():
        try:
            if importlib.util.find_spec(f"{package}.wsgi") and importlib.util.find_spec(f"{package}.worker"):
                found.append(service)
        except ModuleNotFoundError:
            continue
    return found


def dev_keys(var_dir: Path) -> dict[str, str]:
    """Token keys for one machine, made once under var/keys (never committed, never a code default)."""
    keys = var_dir / "keys"
    private, public = keys / "jwt_private.pem", keys / "jwt_public.pem"
    if not private.exists():
        keys.mkdir(parents=True, exist_ok=True)
        private_pem, public_pem = generate_keypair()
        private.write_text(private_pem)
        private.chmod(0o600)
        public.write_text(public_pem)
    return {"JWT_PRIVATE_KEY_FILE": str(private.resolve()), "JWT_PUBLIC_KEY_FILE": str(public.resolve())}


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    popen: subprocess.Popen | None = None  # type: ignore[type-arg]
    log: IO[bytes] | None = None


def _wait_http(url: str, timeout: float, process: Process) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen is not None and process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited with {process.popen.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own loopback
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not answer {url} within {timeout:.0f} s")


@dataclass
class System:
    """The services, their workers and a gateway, as child processes."""

    env: dict[str, str]
    services: list[str] = field(default_factory=installed_services)
    var_dir: Path = Path("var")
    gateway: str = "dev"  # "dev" (the Python proxy), "nginx", or "none"
    gateway_port: int = 8080
    http_workers: int = 2
    ports: dict[str, int] = field(default_factory=lambda: {s: u.port for s, u in UPSTREAMS.items()})
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    echo: bool = False
    workers: bool = True
    rate_limit: bool = True  # nginx's limit_req on login/register (benchmarks of login turn it off)
    processes: list[Process] = field(default_factory=list)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def service_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def environment(self, service: str) -> dict[str, str]:
        env = {**os.environ, **self.env, **self.service_env.get(service, {})}
        env["PROMETHEUS_MULTIPROC_DIR"] = str((self.var_dir / "metrics" / service).resolve())
        env.setdefault("PILLPAL_VAR_DIR", str(self.var_dir.resolve()))
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def migrate(self) -> None:
        for service in self.services:
            upgrade(service, database_url(Env(self.environment(service)), service))

    def start(self, timeout: float = 60.0) -> System:
        (self.var_dir / "log").mkdir(parents=True, exist_ok=True)
        self.migrate()
        for service in self.services:
            metrics = self.var_dir / "metrics" / service
            shutil.rmtree(metrics, ignore_errors=True)
            metrics.mkdir(parents=True)
            package = PACKAGES[service]
            env = self.environment(service)
            web = Process(
                service,
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    f"{package}.wsgi:app",
                    "--bind",
                    f"127.0.0.1:{self.ports[service]}",
                    "--workers",
                    str(self.http_workers),
                    "--graceful-timeout",
                    "5",
                    "--log-level",
                    "warning",
                ],
                env,
            )
            self._spawn(web)
            if self.workers:
                self._spawn(Process(f"{service}-worker", [sys.executable, "-m", f"{package}.worker"], env))
        for service in self.services:
            web = next(p for p in self.processes if p.name == service)
            _wait_http(f"{self.service_url(service)}/healthz", timeout, web)
        if self.gateway != "none":
            self._start_gateway(timeout)
        return self

    def _start_gateway(self, timeout: float) -> None:
        upstreams = {s: f"127.0.0.1:{self.ports[s]}" for s in self.services}
        if self.gateway == "nginx":
            from .nginx import render_nginx

            runtime = (self.var_dir / "nginx").resolve()
            runtime.mkdir(parents=True, exist_ok=True)
            conf = runtime / "nginx.conf"
            conf.write_text(
                render_nginx(
                    upstreams=upstreams,
                    http_port=self.gateway_port,
                    runtime_dir=str(runtime),
                    rate_limit=self.rate_limit,
                )
            )
            argv = ["nginx", "-p", str(runtime), "-c", str(conf)]
            env = dict(os.environ)
        else:
            env = {**os.environ, "PILLPAL_GATEWAY_UPSTREAMS": ",".join(f"{s}={u}" for s, u in upstreams.items())}
            argv = [
                sys.executable,
                "-m",
                "gunicorn",
                "pillpal_shared.devgateway:app",
                "--bind",
                f"127.0.0.1:{self.gateway_port}",
                "--worker-class",
                "gthread",
                "--threads",
                "16",
                "--log-level",
                "warning",
            ]
        process = Process("gateway", argv, env)
        self._spawn(process)
        _wait_http(f"{self.gateway_url}/api/health", timeout, process)

    def _spawn(self, process: Process) -> None:
        if self.echo:
            process.popen = subprocess.Popen(
                process.argv, env=process.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
            )
            threading.Thread(target=_prefix_output, args=(process,), daemon=True).start()
        else:
            process.log = open(self.var_dir / "log" / f"{process.name}.log", "ab")  # noqa: SIM115 - closed in stop()
            process.popen = subprocess.Popen(
                process.argv, env=process.env, stdout=process.log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append(process)

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def kill(self, name: str) -> None:
        """kill -9 one process (a crash), for tests."""
        process = self.process(name)
        assert process.popen is not None
        process.popen.kill()
        process.popen.wait()

    def restart(self, name: str) -> None:
        process = self.process(name)
        self.processes.remove(process)
        self._spawn(Process(process.name, process.argv, process.env))

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.popen and process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            if process.popen:
                try:
                    process.popen.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.popen.kill()
                    process.popen.wait()
            if process.log:
                process.log.close()
        self.processes.clear()

    def __enter__(self) -> System:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _prefix_output(process: Process) -> None:
    assert process.popen is not None and process.popen.stdout is not None
    for line in process.popen.stdout:
        sys.stdout.write(f"{process.name:>24} | {line.decode(errors='replace')}")
        sys.stdout.flush()
