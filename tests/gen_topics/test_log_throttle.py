"""The log throttle: a few lines per kind and interval, then a count of what was held back."""

from __future__ import annotations

import logging

import pytest

from gen_topics import _log_throttle
from gen_topics._log_throttle import LogThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _record(
    msg: str, *args: object, level: int = logging.ERROR, name: str = "aiokafka"
) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_burst_per_kind_then_a_count_on_the_next_window() -> None:
    clock = Clock()
    throttle = LogThrottle(interval=10.0, burst=3, clock=clock)
    template = "Unable connect to node with id %s: %s"
    passed = [throttle.filter(_record(template, 1, f"refused #{i}")) for i in range(1000)]
    assert passed[:3] == [True, True, True] and not any(passed[3:])
    other = _record("Unable to update metadata from %s", [1])
    assert throttle.filter(other), "another kind of line has its own allowance"

    clock.now += 10.0
    first = _record(template, 1, "refused again")
    assert throttle.filter(first)
    assert first.getMessage() == (
        "Unable connect to node with id 1: refused again "
        "[997 more like this in the last 10 s were not logged]"
    )
    second = _record(template, 1, "x")
    assert throttle.filter(second) and "were not logged" not in second.getMessage()


def test_loggers_and_levels_are_kinds_of_their_own_and_debug_passes() -> None:
    throttle = LogThrottle(interval=10.0, burst=1, clock=Clock())
    assert throttle.filter(_record("boom %s", 1, name="aiokafka.conn"))
    assert not throttle.filter(_record("boom %s", 2, name="aiokafka.conn"))
    assert throttle.filter(_record("boom %s", 3, name="aiokafka.producer.sender"))
    assert throttle.filter(_record("boom %s", 4, name="aiokafka.conn", level=logging.WARNING))
    assert all(
        throttle.filter(_record("boom %s", i, name="aiokafka.conn", level=logging.DEBUG))
        for i in range(50)
    )


def test_a_quiet_window_reports_nothing() -> None:
    clock = Clock()
    throttle = LogThrottle(interval=5.0, burst=2, clock=clock)
    for _ in range(2):
        assert throttle.filter(_record("x"))
    clock.now += 6.0
    record = _record("x")
    assert throttle.filter(record) and record.getMessage() == "x"


def test_install_covers_existing_child_loggers_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A filter on "pkg" would not see "pkg.child"'s records: each logger gets it.
    child = logging.getLogger("throttle-test-pkg.child")
    parent = logging.getLogger("throttle-test-pkg")
    try:
        _log_throttle.install(["throttle-test-pkg"])
        _log_throttle.install(["throttle-test-pkg"])
        assert parent.filters.count(_log_throttle.THROTTLE) == 1
        assert child.filters.count(_log_throttle.THROTTLE) == 1
    finally:
        parent.removeFilter(_log_throttle.THROTTLE)
        child.removeFilter(_log_throttle.THROTTLE)


def test_the_kafka_transport_installs_it_on_aiokafka() -> None:
    from gen_topics._transport.kafka import KafkaTransport

    KafkaTransport("127.0.0.1:9")
    for name in (
        "aiokafka",
        "aiokafka.conn",
        "aiokafka.producer.sender",
        "aiokafka.consumer.fetcher",
    ):
        assert _log_throttle.THROTTLE in logging.getLogger(name).filters, name
    assert _log_throttle.THROTTLE in logging.getLogger("gen_topics._producer_buffer").filters
