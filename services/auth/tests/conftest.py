import uuid

import pytest

from pillpal_auth.app import create_app
from pillpal_auth.config import load_settings


def auth_environ(database_url, keys, broker=None):
    environ = {
        "DATABASE_URL": database_url,
        "JWT_PUBLIC_KEY": keys.public_pem,
        "JWT_PRIVATE_KEY": keys.private_pem,
        "LOG_FORMAT": "console",
    }
    if broker is not None:
        environ |= {
            "MQTT_BROKER": broker.url,
            "MQTT_USERNAME": "svc-auth",
            "MQTT_PASSWORD": broker.passwords["svc-auth"],
        }
    return environ


@pytest.fixture(scope="session")
def app(database_url, keys):
    return create_app(load_settings(auth_environ(database_url, keys)))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def new_email():
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def registered(client, new_email):
    """A registered user: (email, password, token)."""
    response = client.post(
        "/api/auth/register",
        json={"email": new_email, "password": "correct horse", "full_name": "Ada Byrne", "birthday": "04/12/1990"},
    )
    assert response.status_code == 201, response.json
    return new_email, "correct horse", response.json["token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}
