"""Calls 1-4 of CONTRACTS.md and the auth extensions, through the Flask app on the real MariaDB."""

import pytest
from sqlalchemy import select

from pillpal_auth.models import OUTBOX

from .conftest import bearer


def test_register_answers_201_with_a_token(client, new_email):
    response = client.post(
        "/api/auth/register",
        json={"email": new_email, "password": "12345678", "full_name": "Ada", "birthday": "31/01/2000"},
    )
    assert response.status_code == 201
    assert isinstance(response.json["token"], str)
    me = client.get("/api/auth/me", headers=bearer(response.json["token"])).json
    assert me == {
        "user_id": me["user_id"],
        "email": new_email,
        "full_name": "Ada",
        "birthday": "31/01/2000",
        "timezone": "UTC",
    }
    assert isinstance(me["user_id"], int)


def test_me_without_name_or_birthday_answers_nulls(client, new_email):
    token = client.post("/api/auth/register", json={"email": new_email, "password": "12345678"}).json["token"]
    me = client.get("/api/auth/me", headers=bearer(token)).json
    assert me["full_name"] is None and me["birthday"] is None


def test_iso_birthday_is_accepted(client, new_email):
    response = client.post(
        "/api/auth/register", json={"email": new_email, "password": "12345678", "birthday": "2000-01-31"}
    )
    me = client.get("/api/auth/me", headers=bearer(response.json["token"])).json
    assert me["birthday"] == "31/01/2000"


@pytest.mark.parametrize("variant", [str.upper, str.title, lambda e: "  " + e.upper()])
def test_taken_email_in_any_case_answers_409(client, registered, variant):
    email, _, _ = registered
    response = client.post("/api/auth/register", json={"email": variant(email).strip(), "password": "12345678"})
    assert response.status_code == 409
    assert "error" in response.json


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": "12345678"}, "email"),
        ({"password": "12345678"}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "a@example.com", "password": "12345678", "birthday": "31/02/2000"}, "birthday"),
        ({"email": "a@example.com", "password": "12345678", "birthday": "01/01/2999"}, "birthday"),
        ({"email": "a@example.com", "password": "12345678", "birthday": 19900101}, "birthday"),
        ({"email": 5, "password": "12345678"}, "email"),
    ],
)
def test_bad_register_body_answers_400_naming_the_field(client, body, field):
    response = client.post("/api/auth/register", json=body)
    assert response.status_code == 400
    assert field in response.json["fields"]
    assert response.json["error"].startswith(field)


@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/login"])
@pytest.mark.parametrize("data", ["not json", "[1, 2]", ""])
def test_body_that_is_not_a_json_object_answers_400(client, path, data):
    response = client.post(path, data=data, content_type="application/json")
    assert response.status_code == 400
    assert "body" in response.json["fields"]


def test_login_answers_a_token_and_email_case_does_not_matter(client, registered):
    email, password, _ = registered
    response = client.post("/api/auth/login", json={"email": email.upper(), "password": password})
    assert response.status_code == 200
    assert client.get("/api/auth/me", headers=bearer(response.json["token"])).status_code == 200


def test_wrong_password_or_unknown_email_answers_401(client, registered):
    email, _, _ = registered
    assert client.post("/api/auth/login", json={"email": email, "password": "wrong password"}).status_code == 401
    response = client.post("/api/auth/login", json={"email": "nobody@example.com", "password": "whatever1"})
    assert response.status_code == 401
    assert response.json == {"error": "Wrong email or password"}


def test_stale_authorization_header_is_ignored_on_login_and_register(client, registered, new_email):
    email, password, _ = registered
    stale = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.stale.token"}
    assert client.post("/api/auth/login", json={"email": email, "password": password}, headers=stale).status_code == 200
    response = client.post(
        "/api/auth/register", json={"email": new_email.replace("user", "other"), "password": "12345678"}, headers=stale
    )
    assert response.status_code == 201


def test_me_requires_a_valid_token(client, keys):
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/auth/me", headers=bearer("garbage")).status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_tokens_from_elsewhere_answer_401(client, registered, keys):
    import base64
    import hashlib
    import hmac
    import json
    from datetime import UTC, datetime, timedelta

    from pillpal_shared.tokens import TokenSigner, generate_keypair

    user_id = client.get("/api/auth/me", headers=bearer(registered[2])).json["user_id"]
    other = TokenSigner(generate_keypair()[0], "pillpal-auth", "pillpal", timedelta(hours=1)).issue(user_id)
    expired = keys.signer().issue(user_id, now=datetime.now(UTC) - timedelta(days=400))
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": str(user_id), "iss": "pillpal-auth", "aud": "pillpal", "iat": now, "exp": now + 60, "jti": "j"}

    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    none_token = (b64(b'{"alg":"none"}') + b"." + b64(json.dumps(claims).encode()) + b".").decode()
    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + b"." + b64(json.dumps(claims).encode())
    hs256 = signing_input + b"." + b64(hmac.new(keys.public_pem.encode(), signing_input, hashlib.sha256).digest())
    for token in (other, expired, none_token, hs256.decode()):
        response = client.get("/api/auth/me", headers=bearer(token))
        assert response.status_code == 401
        assert "error" in response.json


def test_patch_me_changes_name_and_timezone(client, registered, app):
    token = registered[2]
    response = client.patch(
        "/api/auth/me", json={"full_name": "Ada B", "timezone": "Europe/Dublin"}, headers=bearer(token)
    )
    assert response.status_code == 200
    assert response.json["timezone"] == "Europe/Dublin" and response.json["full_name"] == "Ada B"
    bad = client.patch("/api/auth/me", json={"timezone": "Mars/Olympus"}, headers=bearer(token))
    assert bad.status_code == 400 and "timezone" in bad.json["fields"]
    user_id = response.json["user_id"]
    db = app.extensions["pillpal.db"]
    with db.transaction() as session:
        payloads = session.scalars(
            select(OUTBOX.table.c.payload).where(OUTBOX.table.c.event_type == "user.updated")
        ).all()
    assert any(f'"user_id":{user_id}' in p and "Europe/Dublin" in p for p in payloads)


def test_refresh_rotates_and_reuse_revokes_the_family(client, registered):
    email, password, _ = registered
    first = client.post("/api/auth/login", json={"email": email, "password": password}).json
    second = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200 and second.json["refresh_token"] != first["refresh_token"]
    # The old token again: someone replayed it, so the whole family dies, the new one included.
    assert client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    assert client.post("/api/auth/refresh", json={"refresh_token": second.json["refresh_token"]}).status_code == 401


def test_logout_revokes_refresh_tokens(client, registered):
    email, password, _ = registered
    pair = client.post("/api/auth/login", json={"email": email, "password": password}).json
    assert client.post("/api/auth/logout", headers=bearer(pair["token"])).status_code == 200
    assert client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_delete_removes_the_account_and_stages_user_deleted(client, registered, app):
    email, password, token = registered
    user_id = client.get("/api/auth/me", headers=bearer(token)).json["user_id"]
    assert client.delete("/api/auth/delete", headers=bearer(token)).status_code == 200
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
    assert client.post("/api/auth/login", json={"email": email, "password": password}).status_code == 401
    with app.extensions["pillpal.db"].transaction() as session:
        rows = (
            session.execute(select(OUTBOX.table.c.payload).where(OUTBOX.table.c.event_type == "user.deleted"))
            .scalars()
            .all()
        )
    assert sum(f'"user_id":{user_id}' in p for p in rows) == 1
    # The email is free again.
    assert client.post("/api/auth/register", json={"email": email, "password": password}).status_code == 201


def test_errors_are_json(client):
    assert client.get("/api/auth/nope").json["error"]
    assert client.put("/api/auth/login").status_code == 405
    assert "error" in client.put("/api/auth/login").json
