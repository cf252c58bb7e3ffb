"""User B tries to read, change and delete user A's medication: every attempt answers 404 (never
403, so nothing is revealed), and A's medication, its schedule and its events are unchanged."""

from __future__ import annotations


def test_another_users_medication_is_not_found_and_stays_unchanged(client, alice, bob, med_body, staged):
    med = client.post("/api/medications", json=med_body(), headers=alice.headers).get_json()
    url = f"/api/medications/{med['med_id']}"
    before = client.get(url, headers=alice.headers).get_json()

    attempts = [
        client.get(url, headers=bob.headers),
        client.put(url, json=med_body("Stolen", times=["03:00"]), headers=bob.headers),
        client.patch(url, json={"name": "Stolen"}, headers=bob.headers),
        client.patch(url, json={"schedule": {"repeat_type": "nonsense"}}, headers=bob.headers),
        client.delete(url, headers=bob.headers),
    ]

    assert [r.status_code for r in attempts] == [404] * 5
    missing = client.get("/api/medications/999999999999", headers=bob.headers)
    assert {r.get_json()["error"] for r in attempts} == {missing.get_json()["error"]}
    assert client.get(url, headers=alice.headers).get_json() == before
    assert client.get("/api/medications", headers=alice.headers).get_json() == [before]
    assert client.get("/api/medications", headers=bob.headers).get_json() == []
    assert [e["type"] for e in staged(med["med_id"])] == ["medication.upserted"]


def test_a_put_for_an_unknown_id_creates_nothing(client, bob, med_body):
    assert client.put("/api/medications/999999999999", json=med_body(), headers=bob.headers).status_code == 404
    assert client.get("/api/medications", headers=bob.headers).get_json() == []


def test_each_user_lists_only_their_own(client, alice, bob, med_body):
    for name in ("A1", "A2"):
        client.post("/api/medications", json=med_body(name), headers=alice.headers)
    client.post("/api/medications", json=med_body("B1"), headers=bob.headers)
    assert [m["name"] for m in client.get("/api/medications", headers=alice.headers).get_json()] == ["A1", "A2"]
    assert [m["name"] for m in client.get("/api/medications", headers=bob.headers).get_json()] == ["B1"]
