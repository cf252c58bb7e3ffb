"""The two forms of the read path give the same MedicationResponse JSON: the one MySQL/MariaDB
builds in the server and the portable one Python shapes (used on SQLite)."""

from __future__ import annotations

import json

from pillpal_meds.reads import list_json, one_json

AWKWARD = ['He said "twice"', "back\\slash", "line\nbreak", "émoji 💊 ünïcode", "tab\there", "</script>"]


def test_server_built_and_portable_reads_agree(client, db, alice, med_body):
    bodies = [
        med_body(AWKWARD[0]),
        {**med_body("Nightly", times=["23:59", "00:00", "12:00", "06:30"], lead_minutes=0), "notes": None},
        med_body("Weekly", repeat_type="weekly", day_mask="1000001", lead_minutes=120),
        med_body("Course", repeat_type="custom", custom_start="2026-12-07", custom_end="2026-12-21"),
        med_body("Once", repeat_type="once", custom_start="2027-01-01", custom_end="2027-01-01"),
        {**med_body("Bounded"), "active_start_date": "2026-12-10", "active_end_date": "2027-02-28"},
        *({**med_body(name), "notes": name} for name in AWKWARD[1:]),
    ]
    created = []
    for body in bodies:
        response = client.post("/api/medications", json=body, headers=alice.headers)
        assert response.status_code == 201, response.get_json()
        created.append(response.get_json())

    with db.read() as conn:
        assert conn.dialect.name == "mysql"
        server, portable = list_json(conn, alice.id), list_json(conn, alice.id, portable=True)
        assert json.loads(server) == json.loads(portable) == created
        for med in created:
            one = one_json(conn, alice.id, med["med_id"])
            assert json.loads(one) == json.loads(one_json(conn, alice.id, med["med_id"], portable=True)) == med
        assert one_json(conn, alice.id + 1, created[0]["med_id"]) is None
        assert one_json(conn, alice.id, created[0]["med_id"], portable=True) is not None
        assert list_json(conn, alice.id + 1) == list_json(conn, alice.id + 1, portable=True) == "[]"
