from argon2 import PasswordHasher

from pillpal_auth.app import create_app
from pillpal_auth.config import load_settings
from pillpal_shared.db import Database

from .conftest import auth_environ


def test_health_reports_the_database(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "db": True}


def test_health_answers_503_when_the_database_is_down(keys):
    down = "mysql+pymysql://root@127.0.0.1:1/none"
    app = create_app(load_settings(auth_environ(down, keys)), Database(down))
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    assert response.json["db"] is False


def test_password_hashes_are_argon2id_at_owasp_minimum(app, registered):
    accounts = app.extensions["pillpal.accounts"]
    digest = accounts.hasher.hash("some password")
    assert digest.startswith("$argon2id$")
    assert PasswordHasher.from_parameters  # argon2-cffi reads the parameters back from the hash
    assert "m=19456,t=2,p=1" in digest


def test_argon2_below_owasp_minimum_is_refused(keys):
    import pytest

    from pillpal_shared.config import ConfigError

    with pytest.raises(ConfigError, match="ARGON2_MEMORY_KIB"):
        load_settings(auth_environ("sqlite://", keys) | {"ARGON2_MEMORY_KIB": "4096"})
