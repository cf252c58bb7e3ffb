"""The auth service's factory: wiring in one place, nothing connects at import time."""

from __future__ import annotations

from flask import Flask

from pillpal_shared.db import Database
from pillpal_shared.tokens import TokenSigner
from pillpal_shared.web import bootstrap_app

from .config import SERVICE, AuthSettings, load_settings
from .routes import bp
from .service import Accounts, password_hasher


def create_app(settings: AuthSettings | None = None, db: Database | None = None) -> Flask:
    settings = settings or load_settings()
    common = settings.common
    app = bootstrap_app(SERVICE, common, db)
    signer = TokenSigner(settings.jwt_private_key, common.jwt_issuer, common.jwt_audience, settings.access_ttl)
    hasher = password_hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    app.extensions["pillpal.accounts"] = Accounts(signer, hasher, settings.refresh_ttl)
    app.register_blueprint(bp)
    return app
