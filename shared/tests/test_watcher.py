"""The tests' broker observer: it is subscribed when created and collects JSON or raw bytes."""

from pillpal_shared.bus import BusClient


def test_watcher_collects_what_is_published(broker):
    with broker.watch("pillpal/events/user/+/deleted") as watcher:
        bus = BusClient(broker.settings("svc-auth")).start()
        bus.confirm(
            [
                bus.publish("pillpal/events/user/5/deleted", b'{"a": 1}'),
                bus.publish("pillpal/events/user/6/deleted", b"raw"),
            ]
        )
        bus.stop()
        got = watcher.collect(until=lambda items: len(items) >= 2)
    assert got == [{"a": 1}, b"raw"]
