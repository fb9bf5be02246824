"""OpenTelemetry tracing: a producer span per send, a consumer span per processed event.

Needs the ``otel`` extra (``pip install "gen-topics[otel]"``, which brings opentelemetry-api;
configure an SDK and exporter as usual). Enable it with ``App(..., tracing=True)`` or
``app.sensors.add(TracingSensor())``.

Spans follow OpenTelemetry's messaging semantic conventions for Kafka: ``send <topic>``
(kind PRODUCER) and ``process <topic>`` (kind CONSUMER), with ``messaging.system``,
``messaging.destination.name``, ``messaging.operation.name`` / ``.type``,
``messaging.destination.partition.id``, ``messaging.kafka.offset``,
``messaging.kafka.message.key`` (string keys only), ``messaging.kafka.message.tombstone``,
``messaging.consumer.group.name`` and ``messaging.message.body.size``. The producer injects
W3C trace context (``traceparent``, ``tracestate``) into the record headers through the
globally configured propagator; the consumer extracts it, so a consumer span is a child of
the producer span across processes. While an event is processed its span is the current
span of the reader's task, so records sent while processing are children of it.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

try:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate, trace
    from opentelemetry.propagators.textmap import Getter, Setter
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "gen_topics.tracing needs OpenTelemetry: pip install 'gen-topics[otel]'"
    ) from exc

from gen_topics._events import Event
from gen_topics._messages import Headers, Message, RecordMetadata
from gen_topics.sensors import Sensor

__all__ = ["TracingSensor"]

_SYSTEM = "kafka"


class _HeaderSetter(Setter[Headers]):
    def set(self, carrier: Headers, key: str, value: str) -> None:
        # A re-sent record must not carry two parents: replace, never duplicate.
        carrier[:] = [(k, v) for k, v in carrier if k != key]
        carrier.append((key, value.encode("utf-8")))


class _HeaderGetter(Getter[Headers]):
    def get(self, carrier: Headers, key: str) -> list[str] | None:
        found = [v.decode("utf-8", "replace") for k, v in carrier if k.lower() == key]
        return found or None

    def keys(self, carrier: Headers) -> list[str]:
        return [k for k, _ in carrier]


_SETTER = _HeaderSetter()
_GETTER = _HeaderGetter()


class _Processing:
    __slots__ = ("span", "task", "token")

    def __init__(
        self,
        span: trace.Span,
        token: contextvars.Token[otel_context.Context],
        task: asyncio.Task[Any] | None,
    ) -> None:
        self.span = span
        self.token = token
        self.task = task


class TracingSensor(Sensor):
    """Spans for sends and processed events, with trace context carried in headers."""

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self._tracer = trace.get_tracer("gen_topics", tracer_provider=tracer_provider)

    def on_send_start(self, topic: str, key: object, tombstone: bool, headers: Headers) -> Any:
        """Start the producer span and inject its context into ``headers``."""
        attributes: dict[str, Any] = {
            "messaging.system": _SYSTEM,
            "messaging.destination.name": topic,
            "messaging.operation.name": "send",
            "messaging.operation.type": "send",
        }
        if isinstance(key, str):
            attributes["messaging.kafka.message.key"] = key
        if tombstone:
            attributes["messaging.kafka.message.tombstone"] = True
        span = self._tracer.start_span(
            f"send {topic}", kind=trace.SpanKind.PRODUCER, attributes=attributes
        )
        propagate.inject(headers, context=trace.set_span_in_context(span), setter=_SETTER)
        return span

    def on_send_done(
        self, token: Any, topic: str, metadata: RecordMetadata, size: int, latency: float
    ) -> None:
        """End the producer span with the partition and offset the broker gave."""
        if token is None:
            return
        span: trace.Span = token
        span.set_attribute("messaging.destination.partition.id", str(metadata.partition))
        span.set_attribute("messaging.kafka.offset", metadata.offset)
        span.set_attribute("messaging.message.body.size", size)
        span.end()

    def on_send_error(self, token: Any, topic: str, error: BaseException, latency: float) -> None:
        """End the producer span as failed."""
        if token is None:
            return
        span: trace.Span = token
        span.record_exception(error)
        span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(trace.Status(trace.StatusCode.ERROR, str(error)))
        span.end()

    def on_event_start(self, event: Event[Any, Any], group: str) -> Any:
        """Start the consumer span as a child of the producer's, and make it current."""
        message: Message = event.message
        parent = propagate.extract(message.headers, getter=_GETTER)
        attributes: dict[str, Any] = {
            "messaging.system": _SYSTEM,
            "messaging.destination.name": message.topic,
            "messaging.operation.name": "process",
            "messaging.operation.type": "process",
            "messaging.destination.partition.id": str(message.partition),
            "messaging.kafka.offset": message.offset,
            "messaging.consumer.group.name": group,
            "messaging.message.body.size": len(message.value or b""),
        }
        if isinstance(event.key, str):
            attributes["messaging.kafka.message.key"] = event.key
        if message.value is None:
            attributes["messaging.kafka.message.tombstone"] = True
        span = self._tracer.start_span(
            f"process {message.topic}",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            attributes=attributes,
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        return _Processing(span, token, task)

    def on_event_processed(self, token: Any, message: Message, duration: float) -> None:
        """End the consumer span (and restore the reader task's previous context)."""
        if token is None:
            return
        processing: _Processing = token
        try:
            current = asyncio.current_task()
        except RuntimeError:
            current = None
        # A context can only be detached in the task that attached it; an event acked from
        # elsewhere leaves the reader's context to be replaced by its next event's.
        if current is processing.task:
            otel_context.detach(processing.token)
        processing.span.end()
