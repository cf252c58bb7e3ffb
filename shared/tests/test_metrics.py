"""observe_each records a crowd of equal observations as a loop of observe() would."""

from prometheus_client import CollectorRegistry, Histogram

from pillpal_shared.metrics import observe_each


def test_observe_each_equals_a_loop_of_observe():
    amounts = [0.3] * 500 + [2.0, 0.001, 0.3, 400.0]
    looped, bulk = CollectorRegistry(), CollectorRegistry()
    one = Histogram("late_seconds", "x", buckets=(0.01, 0.5, 5), registry=looped)
    many = Histogram("late_seconds", "x", buckets=(0.01, 0.5, 5), registry=bulk)
    for amount in amounts:
        one.observe(amount)
    observe_each(many, iter(amounts))

    def samples(registry):
        return {
            (s.name, tuple(s.labels.items())): s.value
            for m in registry.collect()
            for s in m.samples
            if not s.name.endswith("_created")
        }

    assert samples(bulk) == samples(looped)
