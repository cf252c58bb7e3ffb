"""On the embedded SQLite default (make run, the demo) a deleted medication's id is never given to the
next one: adherence keeps the deleted id as a tombstone and would ignore a medication reusing it."""

from pillpal_meds.app import create_app
from pillpal_meds.config import load_settings
from pillpal_shared.migrate import upgrade

MED = {"name": "Zinc", "notes": None, "schedule": {"repeat_type": "daily", "times": ["08:00"]}}


def test_the_next_medication_after_deleting_the_newest_gets_a_new_id(tmp_path, keys):
    url = f"sqlite:///{tmp_path / 'meds.db'}"
    upgrade("meds", url)
    client = create_app(load_settings({"DATABASE_URL": url, "JWT_PUBLIC_KEY": keys.public_pem})).test_client()
    headers = {"Authorization": f"Bearer {keys.signer().issue(7)}"}

    def add() -> int:
        assert client.post("/api/medications", json=MED, headers=headers).status_code == 201
        return max(m["med_id"] for m in client.get("/api/medications", headers=headers).json)

    gone = add()
    assert client.delete(f"/api/medications/{gone}", headers=headers).status_code == 200
    assert add() > gone
