"""One can follow a request and an event through the logs: every API call logs one line with its
request_id, events staged inside it are logged with that request_id and their ids, and a consumer logs
the ids it applied (its handlers' lines carry event_id)."""

import json
import time

import pytest
import structlog
from sqlalchemy import MetaData

from pillpal_shared.bus import Message
from pillpal_shared.consumer import EventConsumer
from pillpal_shared.db import Database
from pillpal_shared.envelope import new_event
from pillpal_shared.logs import configure_logging
from pillpal_shared.outbox import Inbox, Outbox, outbox_table, processed_events_table
from pillpal_shared.web import create_service_app, database

metadata = MetaData()
OUTBOX = Outbox(outbox_table(metadata, "trail"))
INBOX = Inbox(processed_events_table(metadata, "trail"))


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'trail.db'}")
    metadata.create_all(database.engine)
    yield database
    database.dispose()


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


def test_a_request_and_the_events_it_staged_share_its_request_id(db, keys, capsys):
    configure_logging("t", "json", "INFO")
    app = create_service_app("t", db, keys.verifier())
    event = new_event("user.deleted", {"user_id": 5}, {}, source="test")

    @app.delete("/thing")
    def thing():
        with database().transaction() as session:
            OUTBOX.add(session, event)
        return {"status": "deleted"}

    app.test_client().delete("/thing", headers={"X-Request-ID": "trail-1"})
    app.test_client().get("/healthz")
    logged = lines(capsys)
    staged = next(line for line in logged if line["event"] == "events_staged")
    assert staged["request_id"] == "trail-1" and staged["event_ids"] == [event.id]
    assert staged["event_types"] == ["user.deleted"]
    (request,) = [line for line in logged if line["event"] == "http_request"]  # probes are not logged
    assert request["request_id"] == "trail-1" and request["route"] == "/thing" and request["status"] == 200
    assert request["method"] == "DELETE" and isinstance(request["duration_ms"], float)


def test_a_consumer_logs_the_ids_it_applied_and_binds_event_id_for_its_handlers(db, broker, capsys):
    configure_logging("t", "json", "INFO")
    log = structlog.get_logger("handler")
    consumer = EventConsumer(
        "trail", db, broker.settings("svc-ops"), INBOX, {"user.deleted": lambda s, e: log.info("user_forgotten")}
    )
    event = new_event("user.deleted", {"user_id": 6}, {}, source="test")
    message = Message(event.topic, event.to_json(), 1, 1, False, 0, time.monotonic())
    consumer.handle([message, message])
    logged = lines(capsys)
    assert next(line for line in logged if line["event"] == "user_forgotten")["event_id"] == event.id
    applied = next(line for line in logged if line["event"] == "events_applied")
    assert applied["event_ids"] == [event.id] and applied["duplicates"] == 1 and applied["consumer"] == "trail"
