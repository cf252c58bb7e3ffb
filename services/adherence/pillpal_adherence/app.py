"""The adherence service's factory: wiring in one place, nothing connects at import time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask

from pillpal_shared.db import Database, utcnow
from pillpal_shared.logs import configure_logging
from pillpal_shared.tokens import TokenVerifier
from pillpal_shared.web import create_service_app

from .config import SERVICE, AdherenceSettings, load_settings
from .routes import bp
from .service import Doses


def create_app(
    settings: AdherenceSettings | None = None, db: Database | None = None, clock: Callable[[], datetime] | None = None
) -> Flask:
    settings = settings or load_settings()
    common = settings.common
    configure_logging(SERVICE, common.log_format, common.log_level)
    db = db or Database(common.database_url)
    verifier = TokenVerifier(common.jwt_public_key, common.jwt_issuer, common.jwt_audience)
    app = create_service_app(SERVICE, db, verifier)
    app.extensions["pillpal.doses"] = Doses(settings, clock or utcnow)
    app.register_blueprint(bp)
    return app
