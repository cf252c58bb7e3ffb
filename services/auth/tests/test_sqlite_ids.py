"""On the embedded SQLite default (make run, the demo) a deleted account's id is never given to the next
account: its tokens stay valid until they expire, and the other services keep a tombstone of the id."""

from pillpal_auth.app import create_app
from pillpal_auth.config import load_settings
from pillpal_shared.migrate import upgrade

from .conftest import auth_environ, bearer


def test_the_next_account_after_deleting_the_newest_gets_a_new_id(tmp_path, keys):
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    upgrade("auth", url)
    client = create_app(load_settings(auth_environ(url, keys))).test_client()

    def register(email):
        answer = client.post("/api/auth/register", json={"email": email, "password": "correct horse"})
        assert answer.status_code == 201
        return answer.json["token"]

    register("first@example.com")
    token = register("newest@example.com")
    gone = client.get("/api/auth/me", headers=bearer(token)).json["user_id"]
    assert client.delete("/api/auth/delete", headers=bearer(token)).status_code == 200
    after = client.get("/api/auth/me", headers=bearer(register("next@example.com"))).json["user_id"]
    assert after > gone
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401  # the old token finds no one
