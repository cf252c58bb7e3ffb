"""No N+1: listing medications runs the same number of SQL statements whatever their number."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def counted(engine):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_to_list(client, db, user) -> int:
    with counted(db.reader) as statements:
        response = client.get("/api/medications", headers=user.headers)
    assert response.status_code == 200
    return len(statements)


def test_list_runs_a_constant_number_of_statements(client, db, new_user, med_body):
    counts = {}
    for how_many in (0, 1, 5, 20):
        user = new_user()
        for i in range(how_many):
            body = med_body(f"Med {i}", times=["06:00", "12:00", "18:00", "23:00"])
            assert client.post("/api/medications", json=body, headers=user.headers).status_code == 201
        counts[how_many] = statements_to_list(client, db, user)
        assert len(client.get("/api/medications", headers=user.headers).get_json()) == how_many
    assert len(set(counts.values())) == 1, counts
    assert counts[20] == 1


def test_get_one_runs_one_statement(client, db, alice, med_body):
    med = client.post("/api/medications", json=med_body(), headers=alice.headers).get_json()
    with counted(db.reader) as statements:
        assert client.get(f"/api/medications/{med['med_id']}", headers=alice.headers).status_code == 200
    assert len(statements) == 1
