"""Sensors: typed hooks on what an App does (sends, reads, commits, rebalances, errors).

A sensor subclasses :class:`Sensor` and overrides the hooks it cares about; register it with
``app.sensors.add(sensor)``. Hooks run inline on the hot path, so they must be quick; a hook
that raises is logged once per sensor and hook (with a count of later failures on
:attr:`SensorSet.failures`) and never reaches the send or the read. With no sensor
registered the App skips every hook call (the call sites test ``if app.sensors:``).

Two hooks open a unit of work and return a *token* that the matching close hook receives:
``on_send_start`` -> ``on_send_done`` / ``on_send_error``, and ``on_event_start`` ->
``on_event_processed``. A tracing sensor returns its span there; others return ``None``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from gen_topics._messages import TP, Headers, Message, RecordMetadata

if TYPE_CHECKING:
    from gen_topics._events import Event
    from gen_topics.errors import TopicConfigMismatch

__all__ = ["Sensor", "SensorSet"]

log = logging.getLogger(__name__)


class Sensor:
    """Base class of sensors: every hook is a no-op; override the ones you need."""

    def on_send_start(self, topic: str, key: object, tombstone: bool, headers: Headers) -> Any:
        """A record is about to be handed to the producer: ``key`` as the caller gave it
        (typed, before encoding), ``tombstone`` when the value is None. ``headers`` may be
        appended to (trace context); the return value is passed to the matching close hook."""
        return None

    def on_send_done(
        self, token: Any, topic: str, metadata: RecordMetadata, size: int, latency: float
    ) -> None:
        """The broker acknowledged a record: ``size`` is key + value bytes, ``latency`` the
        seconds from ``on_send_start`` to the acknowledgement."""

    def on_send_error(self, token: Any, topic: str, error: BaseException, latency: float) -> None:
        """A record was not delivered."""

    def on_message_in(self, message: Message) -> None:
        """The consumer fetched a record (before decoding)."""

    def on_event_start(self, event: Event[Any, Any], group: str) -> Any:
        """A reader received ``event`` (consumer group ``group``); runs in the reader's task."""
        return None

    def on_event_processed(self, token: Any, message: Message, duration: float) -> None:
        """The reader acked the event, ``duration`` seconds after it received it."""

    def on_decode_error(self, message: Message, error: BaseException) -> None:
        """A record did not decode."""

    def on_skip(self, message: Message, error: BaseException) -> None:
        """A record that did not decode was skipped (decode-error policy ``skip``)."""

    def on_dead_letter(
        self, message: Message, error: BaseException, dead_letter_topic: str
    ) -> None:
        """A record that did not decode was produced to ``dead_letter_topic``."""

    def on_commit(self, offsets: Mapping[TP, int], duration: float) -> None:
        """Offsets were committed (next offset to read, per partition)."""

    def on_rebalance(self, assigned: set[TP], revoked: set[TP]) -> None:
        """The group moved partitions: ``revoked`` were given up, ``assigned`` received."""

    def on_declare_mismatch(self, mismatch: TopicConfigMismatch) -> None:
        """An existing topic's partitions or config differ from its declaration."""

    #: Seconds between :meth:`on_lag` calls, or None when the sensor wants no lag figures.
    lag_interval: float | None = None

    def on_lag(self, lags: Mapping[TP, int]) -> None:
        """Consumer lag per assigned partition: end offset minus committed offset."""


class SensorSet:
    """The sensors of one App (``app.sensors``), called with per-sensor error containment."""

    __slots__ = ("_logged", "_sensors", "active", "failures")

    def __init__(self) -> None:
        self._sensors: list[Sensor] = []
        #: Whether any sensor is registered (what the hot paths test, one attribute read).
        self.active = False
        self._logged: set[tuple[int, str]] = set()
        #: Failures per (sensor class name, hook name), logged or not.
        self.failures: dict[tuple[str, str], int] = {}

    def add(self, sensor: Sensor) -> None:
        """Register ``sensor`` (once; adding it again has no effect)."""
        if sensor not in self._sensors:
            self._sensors.append(sensor)
        self.active = True

    def remove(self, sensor: Sensor) -> None:
        """Unregister ``sensor``."""
        if sensor in self._sensors:
            self._sensors.remove(sensor)
        self.active = bool(self._sensors)

    def __bool__(self) -> bool:
        return self.active

    def __len__(self) -> int:
        return len(self._sensors)

    def __iter__(self) -> Iterator[Sensor]:
        return iter(list(self._sensors))

    def _failed(self, sensor: Sensor, hook: str, exc: BaseException) -> None:
        name = (type(sensor).__name__, hook)
        self.failures[name] = self.failures.get(name, 0) + 1
        key = (id(sensor), hook)
        if key not in self._logged:
            self._logged.add(key)
            # Formatted here: each sensor and hook is its own line (logged once), never folded
            # with other hooks' lines by a throttle that groups records by template.
            log.error(
                f"sensor {type(sensor).__name__} raised in {hook} (logged once; later "
                f"failures are counted in app.sensors.failures): {exc!r}",
                exc_info=exc,
            )

    def _each(self, hook: str, *args: Any) -> None:
        for sensor in self._sensors:
            try:
                getattr(sensor, hook)(*args)
            except Exception as exc:
                self._failed(sensor, hook, exc)

    def _open(self, hook: str, *args: Any) -> list[Any]:
        tokens: list[Any] = []
        for sensor in self._sensors:
            try:
                tokens.append(getattr(sensor, hook)(*args))
            except Exception as exc:
                tokens.append(None)
                self._failed(sensor, hook, exc)
        return tokens

    def _close(self, hook: str, tokens: list[Any], *args: Any) -> None:
        for sensor, token in zip(self._sensors, tokens, strict=False):
            try:
                getattr(sensor, hook)(token, *args)
            except Exception as exc:
                self._failed(sensor, hook, exc)

    # -- the hooks, fanned out ----------------------------------------------------------

    def send_start(self, topic: str, key: object, tombstone: bool, headers: Headers) -> list[Any]:
        """Call ``on_send_start`` on every sensor; returns their tokens."""
        return self._open("on_send_start", topic, key, tombstone, headers)

    def send_done(
        self, tokens: list[Any], topic: str, metadata: RecordMetadata, size: int, latency: float
    ) -> None:
        """Call ``on_send_done`` with each sensor's token."""
        self._close("on_send_done", tokens, topic, metadata, size, latency)

    def send_error(
        self, tokens: list[Any], topic: str, error: BaseException, latency: float
    ) -> None:
        """Call ``on_send_error`` with each sensor's token."""
        self._close("on_send_error", tokens, topic, error, latency)

    def watch_delivery(
        self, tokens: list[Any], topic: str, handle: Any, size: int, started: float
    ) -> None:
        """Report the delivery of the record whose producer ``handle`` (the transport's
        delivery future, or its metadata when already delivered) is given, whether or not
        anybody awaits it."""
        if isinstance(handle, RecordMetadata):
            self.send_done(tokens, topic, handle, size, time.monotonic() - started)
        elif isinstance(handle, asyncio.Future):

            def done(fut: asyncio.Future[Any]) -> None:
                latency = time.monotonic() - started
                if fut.cancelled():
                    self.send_error(tokens, topic, asyncio.CancelledError(), latency)
                elif (exc := fut.exception()) is not None:
                    self.send_error(tokens, topic, exc, latency)
                else:
                    md = fut.result()
                    metadata = (
                        RecordMetadata(topic, -1, TP(topic, -1), -1)
                        if md is None
                        else RecordMetadata(*md)
                    )
                    self.send_done(tokens, topic, metadata, size, latency)

            handle.add_done_callback(done)

    def message_in(self, message: Message) -> None:
        """Call ``on_message_in``."""
        self._each("on_message_in", message)

    def event_start(self, event: Event[Any, Any], group: str) -> list[Any]:
        """Call ``on_event_start``; returns the tokens."""
        return self._open("on_event_start", event, group)

    def event_processed(self, tokens: list[Any], message: Message, duration: float) -> None:
        """Call ``on_event_processed`` with each sensor's token."""
        self._close("on_event_processed", tokens, message, duration)

    def decode_error(self, message: Message, error: BaseException) -> None:
        """Call ``on_decode_error``."""
        self._each("on_decode_error", message, error)

    def skip(self, message: Message, error: BaseException) -> None:
        """Call ``on_skip``."""
        self._each("on_skip", message, error)

    def dead_letter(self, message: Message, error: BaseException, dead_letter_topic: str) -> None:
        """Call ``on_dead_letter``."""
        self._each("on_dead_letter", message, error, dead_letter_topic)

    def commit(self, offsets: Mapping[TP, int], duration: float) -> None:
        """Call ``on_commit``."""
        self._each("on_commit", offsets, duration)

    def rebalance(self, assigned: set[TP], revoked: set[TP]) -> None:
        """Call ``on_rebalance``."""
        self._each("on_rebalance", assigned, revoked)

    def declare_mismatch(self, mismatch: TopicConfigMismatch) -> None:
        """Call ``on_declare_mismatch``."""
        self._each("on_declare_mismatch", mismatch)

    def lag_interval(self) -> float | None:
        """The shortest ``lag_interval`` of the sensors, or None when none wants lag."""
        wanted = [s.lag_interval for s in self._sensors if s.lag_interval is not None]
        return min(wanted) if wanted else None

    def lag(self, lags: Mapping[TP, int]) -> None:
        """Call ``on_lag``."""
        self._each("on_lag", lags)
