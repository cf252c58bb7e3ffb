"""The adherence service's factory: wiring in one place, nothing connects at import time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask

from pillpal_shared.db import Database, utcnow
from pillpal_shared.web import bootstrap_app

from .config import SERVICE, AdherenceSettings, load_settings
from .routes import bp
from .service import Doses


def create_app(
    settings: AdherenceSettings | None = None, db: Database | None = None, clock: Callable[[], datetime] | None = None
) -> Flask:
    settings = settings or load_settings()
    common = settings.common
    app = bootstrap_app(SERVICE, common, db)
    app.extensions["pillpal.doses"] = Doses(settings, clock or utcnow)
    app.register_blueprint(bp)
    return app
