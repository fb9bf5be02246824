"""Prometheus metrics of an App: counts, latencies and consumer lag.

Needs the ``prometheus`` extra (``pip install "gen-topics[prometheus]"``). Either pass
``App(..., metrics_port=9464)`` (serves ``/metrics`` on 127.0.0.1 unless
``metrics_host`` says otherwise) or register the sensor with your own registry::

    registry = prometheus_client.CollectorRegistry()
    app.sensors.add(PrometheusSensor(app.id, registry=registry))

Every series has the label ``app`` (the App id) and, where it applies, ``topic`` (and
``partition`` for the lag gauge):

============================================  =========  =====================================
``gen_topics_messages_sent_total``            counter    records the broker acknowledged
``gen_topics_sent_bytes_total``               counter    key + value bytes acknowledged
``gen_topics_send_failures_total``            counter    records not delivered
``gen_topics_messages_received_total``        counter    records fetched by the consumer
``gen_topics_events_processed_total``         counter    events acked by their reader
``gen_topics_decode_errors_total``            counter    records that did not decode
``gen_topics_records_skipped_total``          counter    undecodable records skipped
``gen_topics_records_dead_lettered_total``    counter    undecodable records dead-lettered
``gen_topics_commits_total``                  counter    offset commits
``gen_topics_send_latency_seconds``           histogram  send until acknowledgement
``gen_topics_processing_seconds``             histogram  event received until acked
``gen_topics_consumer_lag``                   gauge      end offset minus committed offset
============================================  =========  =====================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

try:
    import prometheus_client
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "gen_topics.metrics needs prometheus-client: pip install 'gen-topics[prometheus]'"
    ) from exc

from gen_topics._events import Event
from gen_topics._messages import TP, Message, RecordMetadata
from gen_topics.sensors import Sensor

__all__ = ["PrometheusSensor", "serve_metrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


# The collectors of each registry: several Apps (or sensors) of one process share them, told
# apart by their ``app`` label (a registry refuses a second collector of the same name).
_BY_REGISTRY: dict[int, tuple[CollectorRegistry, dict[str, Any]]] = {}


def _collectors(reg: CollectorRegistry) -> dict[str, Any]:
    known = _BY_REGISTRY.get(id(reg))
    if known is not None and known[0] is reg:
        return known[1]
    by_topic = ("app", "topic")

    def counter(name: str, doc: str, labels: tuple[str, ...] = by_topic) -> Counter:
        return Counter(name, doc, labels, registry=reg)

    collectors: dict[str, Any] = {
        "sent": counter("gen_topics_messages_sent", "Records the broker acknowledged."),
        "sent_bytes": counter("gen_topics_sent_bytes", "Key and value bytes acknowledged."),
        "send_failures": counter("gen_topics_send_failures", "Records not delivered."),
        "received": counter("gen_topics_messages_received", "Records fetched."),
        "processed": counter("gen_topics_events_processed", "Events acked by their reader."),
        "decode_errors": counter("gen_topics_decode_errors", "Records that did not decode."),
        "skipped": counter("gen_topics_records_skipped", "Undecodable records skipped."),
        "dead_lettered": counter(
            "gen_topics_records_dead_lettered", "Undecodable records dead-lettered."
        ),
        "commits": counter("gen_topics_commits", "Offset commits.", ("app",)),
        "send_latency": Histogram(
            "gen_topics_send_latency_seconds",
            "Seconds from send to acknowledgement.",
            by_topic,
            buckets=_LATENCY_BUCKETS,
            registry=reg,
        ),
        "processing": Histogram(
            "gen_topics_processing_seconds",
            "Seconds from an event reaching its reader to its ack.",
            by_topic,
            buckets=_LATENCY_BUCKETS,
            registry=reg,
        ),
        "lag": Gauge(
            "gen_topics_consumer_lag",
            "End offset minus committed offset, per assigned partition.",
            ("app", "topic", "partition"),
            registry=reg,
        ),
    }
    _BY_REGISTRY[id(reg)] = (reg, collectors)
    return collectors


class PrometheusSensor(Sensor):
    """Counts and latencies of one App in a Prometheus registry (the default one unless
    ``registry`` is given); ``lag_interval`` seconds between lag refreshes."""

    def __init__(
        self,
        app_id: str,
        *,
        registry: CollectorRegistry | None = None,
        lag_interval: float = 10.0,
    ) -> None:
        self.app_id = app_id
        self.registry = registry if registry is not None else prometheus_client.REGISTRY
        self.lag_interval = lag_interval
        collectors = _collectors(self.registry)
        self.sent: Counter = collectors["sent"]
        self.sent_bytes: Counter = collectors["sent_bytes"]
        self.send_failures: Counter = collectors["send_failures"]
        self.received: Counter = collectors["received"]
        self.processed: Counter = collectors["processed"]
        self.decode_errors: Counter = collectors["decode_errors"]
        self.skipped: Counter = collectors["skipped"]
        self.dead_lettered: Counter = collectors["dead_lettered"]
        self.commits: Counter = collectors["commits"]
        self.send_latency: Histogram = collectors["send_latency"]
        self.processing: Histogram = collectors["processing"]
        self.lag: Gauge = collectors["lag"]
        self._lag_series: set[TP] = set()

    def on_send_done(
        self, token: Any, topic: str, metadata: RecordMetadata, size: int, latency: float
    ) -> None:
        """Count an acknowledged record."""
        self.sent.labels(self.app_id, topic).inc()
        self.sent_bytes.labels(self.app_id, topic).inc(size)
        self.send_latency.labels(self.app_id, topic).observe(latency)

    def on_send_error(self, token: Any, topic: str, error: BaseException, latency: float) -> None:
        """Count an undelivered record."""
        self.send_failures.labels(self.app_id, topic).inc()

    def on_message_in(self, message: Message) -> None:
        """Count a fetched record."""
        self.received.labels(self.app_id, message.topic).inc()

    def on_event_start(self, event: Event[Any, Any], group: str) -> Any:
        """Nothing to open: the duration comes with ``on_event_processed``."""
        return None

    def on_event_processed(self, token: Any, message: Message, duration: float) -> None:
        """Count a processed event and its processing time."""
        self.processed.labels(self.app_id, message.topic).inc()
        self.processing.labels(self.app_id, message.topic).observe(duration)

    def on_decode_error(self, message: Message, error: BaseException) -> None:
        """Count a record that did not decode."""
        self.decode_errors.labels(self.app_id, message.topic).inc()

    def on_skip(self, message: Message, error: BaseException) -> None:
        """Count a skipped record."""
        self.skipped.labels(self.app_id, message.topic).inc()

    def on_dead_letter(
        self, message: Message, error: BaseException, dead_letter_topic: str
    ) -> None:
        """Count a dead-lettered record."""
        self.dead_lettered.labels(self.app_id, message.topic).inc()

    def on_commit(self, offsets: Mapping[TP, int], duration: float) -> None:
        """Count a commit."""
        self.commits.labels(self.app_id).inc()

    def on_lag(self, lags: Mapping[TP, int]) -> None:
        """Set the lag gauge; partitions no longer assigned lose their series."""
        for tp in self._lag_series - set(lags):
            self.lag.remove(self.app_id, tp.topic, str(tp.partition))
        for tp, lag in lags.items():
            self.lag.labels(self.app_id, tp.topic, str(tp.partition)).set(lag)
        self._lag_series = set(lags)


def serve_metrics(
    port: int, *, host: str = "127.0.0.1", registry: CollectorRegistry | None = None
) -> tuple[Any, Any]:
    """Serve ``registry`` (default: the global one) on ``http://host:port/metrics`` in a
    background thread; returns prometheus_client's ``(server, thread)``."""
    return prometheus_client.start_http_server(
        port, addr=host, registry=registry if registry is not None else prometheus_client.REGISTRY
    )
