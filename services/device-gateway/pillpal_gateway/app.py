"""The device-gateway's factory: wiring in one place, nothing connects at import time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask

from pillpal_shared.db import Database, utcnow
from pillpal_shared.web import bootstrap_app

from .commands import Commands
from .config import SERVICE, GatewaySettings, load_settings
from .routes import bp
from .service import Gateway


def build_gateway(settings: GatewaySettings, clock: Callable[[], datetime] | None = None) -> Gateway:
    return Gateway(Commands(settings.legacy_devices), settings.legacy_devices, settings.alert_max_age, clock or utcnow)


def create_app(
    settings: GatewaySettings | None = None, db: Database | None = None, clock: Callable[[], datetime] | None = None
) -> Flask:
    settings = settings or load_settings()
    common = settings.common
    app = bootstrap_app(SERVICE, common, db)
    app.extensions["pillpal.gateway"] = build_gateway(settings, clock)
    app.register_blueprint(bp)
    return app
