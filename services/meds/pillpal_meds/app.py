"""The meds service's factory: wiring in one place, nothing connects at import time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask

from pillpal_shared.db import Database, utcnow
from pillpal_shared.web import bootstrap_app

from .config import SERVICE, MedsSettings, load_settings
from .routes import bp
from .service import Medications


def create_app(
    settings: MedsSettings | None = None, db: Database | None = None, clock: Callable[[], datetime] | None = None
) -> Flask:
    settings = settings or load_settings()
    common = settings.common
    app = bootstrap_app(SERVICE, common, db, pool_size=settings.db_pool_size)
    app.extensions["pillpal.meds"] = Medications(clock or utcnow, settings.default_lead_minutes)
    app.register_blueprint(bp)
    return app
