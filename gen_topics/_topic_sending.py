"""Sending: encoding before anything is sent, ``send``, ``send_soon``, ``publish_message``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any, TypeVar, cast

from gen_topics._encoding import encode_field
from gen_topics._messages import (
    FutureMessage,
    MessageCallback,
    PendingMessage,
    RecordMetadata,
    normalize_headers,
)
from gen_topics._schema import Schema, Serializer
from gen_topics._topic_core import HeadersArg, SendCodecs, TopicCore
from gen_topics._transport.base import passthrough
from gen_topics.codecs import Codec, PreparedCodec, RawCodec

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["TopicSending", "run_callback"]

log = logging.getLogger(__name__)


async def run_callback(fut: FutureMessage) -> None:
    """Call ``fut``'s callback (awaiting it when async), if it has one.

    Runs once per record, when ``fut`` is resolved: with the metadata, or with the error the
    record failed with (``fut.exception()``).
    """
    callback = fut.message.callback
    if callback is not None:
        result = callback(fut)
        if result is not None and hasattr(result, "__await__"):
            await result


class TopicSending(TopicCore[K, V]):
    """The producer half of a topic: every record is encoded (or fails with an
    :class:`EncodeError` naming topic and field) before it reaches the transport."""

    async def prepare_key(
        self,
        key: K | None,
        key_serializer: Serializer | None = None,
        schema: Schema | None = None,
        *,
        topic: str | None = None,
    ) -> bytes | None:
        """Serialize ``key`` for ``topic`` (default: this topic's name)."""
        return await self._prepare_field("key", key, key_serializer, schema, topic)

    async def prepare_value(
        self,
        value: V | None,
        value_serializer: Serializer | None = None,
        schema: Schema | None = None,
        *,
        topic: str | None = None,
    ) -> bytes | None:
        """Serialize ``value`` for ``topic``; ``None`` stays ``None`` (a tombstone)."""
        return await self._prepare_field("value", value, value_serializer, schema, topic)

    async def _prepare_field(
        self,
        field: str,
        obj: Any,
        serializer: Serializer | None,
        schema: Schema | None,
        topic: str | None,
    ) -> bytes | None:
        name = topic or self.get_topic_name()
        codec, needs_prepare = self._codec(name, field == "key", serializer, schema)
        if needs_prepare and obj is not None:
            await cast(PreparedCodec, codec).prepare()
        return encode_field(name, field, codec, obj)

    # -- sending ------------------------------------------------------------------

    async def send(
        self,
        *,
        key: K | None = None,
        value: V | None = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: HeadersArg = None,
        schema: Schema | None = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        callback: MessageCallback | None = None,
        force: bool = False,
    ) -> Awaitable[RecordMetadata]:
        """Encode and queue a record; returns an awaitable of its :class:`RecordMetadata`.

        Encoding happens before anything is sent (an :class:`EncodeError` names the topic
        and field). ``value=None`` is a tombstone. An async ``callback`` is awaited before
        the returned awaitable resolves. ``force`` is accepted for Faust compatibility.
        """
        # Inlined prepare_key/prepare_value: this is the hot path of every producer.
        fast = self._fast
        if (
            fast is None
            or key_serializer is not None
            or value_serializer is not None
            or (schema is not None)
        ):
            fast = self._send_codecs(key_serializer, value_serializer, schema)
        name, key_codec, value_codec, prepared, raw_key, raw_value = fast
        if prepared:
            await self._prepare_codecs(key_codec, value_codec, key, value)
        key_bytes: bytes | None = None
        value_bytes: bytes | None = None
        try:
            # Bytes through the raw codec are themselves: no call for the commonest case.
            if key is not None:
                key_bytes = key if raw_key and isinstance(key, bytes) else key_codec.encode(key)
            if value is not None:
                value_bytes = (
                    value if raw_value and isinstance(value, bytes) else value_codec.encode(value)
                )
        except Exception:
            key_bytes = value_bytes = None  # re-encode below for the precise error
        if (key is not None and type(key_bytes) is not bytes) or (
            value is not None and type(value_bytes) is not bytes
        ):
            key_bytes = encode_field(name, "key", key_codec, key)
            value_bytes = encode_field(name, "value", value_codec, value)
        hdrs = normalize_headers(headers) if headers else None
        if callback is None:
            sensors = self.app.sensors
            if sensors.active:
                hdrs = hdrs or []
                tokens = sensors.send_start(name, key, value is None, hdrs)
                started = time.monotonic()
            send, delivery, queue = self.app.send_path or await self.app.start_send_path()
            timestamp_ms = None if timestamp is None else int(timestamp * 1000)
            hdrs = hdrs or None
            try:
                # Queued at once where the transport can (no coroutine below this one);
                # otherwise, or when the record has to wait, through the client's send.
                handle = (
                    None
                    if queue is None
                    else queue(name, value_bytes, key_bytes, partition, timestamp_ms, hdrs)
                )
                if handle is None:
                    handle = await send(name, value_bytes, key_bytes, partition, timestamp_ms, hdrs)
            except Exception as exc:
                error = self.app.send_error(exc, name, partition, key_bytes)
                if sensors.active:
                    sensors.send_error(tokens, name, error or exc, time.monotonic() - started)
                if error is None:
                    raise
                raise error from exc
            if sensors.active:
                size = len(key_bytes or b"") + len(value_bytes or b"")
                sensors.watch_delivery(tokens, name, handle, size, started)
            if delivery is passthrough:
                # The handle already is the awaitable of our RecordMetadata (no call, no
                # typing.cast: either costs more here than the rest of this block).
                delivered: Awaitable[RecordMetadata] = handle
                return delivered
            return delivery(handle, name, partition, key_bytes)
        fut = FutureMessage(
            PendingMessage(
                self,
                key_bytes,
                value_bytes,
                partition,
                timestamp,
                hdrs or [],
                key_serializer,
                value_serializer,
                callback,
                name,
                schema=schema,
            )
        )
        return await self.publish_message(fut)

    def _send_codecs(
        self,
        key_serializer: Serializer | None,
        value_serializer: Serializer | None,
        schema: Schema | None,
    ) -> SendCodecs:
        name = self.get_topic_name()
        key_codec, key_prepared = self._codec(name, True, key_serializer, schema)
        value_codec, value_prepared = self._codec(name, False, value_serializer, schema)
        result = (
            name,
            key_codec,
            value_codec,
            key_prepared or value_prepared,
            type(key_codec) is RawCodec,
            type(value_codec) is RawCodec,
        )
        if key_serializer is None and value_serializer is None and schema is None:
            self._fast = result
        return result

    @staticmethod
    async def _prepare_codecs(
        key_codec: Codec[Any], value_codec: Codec[Any], key: Any, value: Any
    ) -> None:
        if key is not None and isinstance(key_codec, PreparedCodec):
            await key_codec.prepare()
        if value is not None and isinstance(value_codec, PreparedCodec):
            await value_codec.prepare()

    def as_future_message(
        self,
        key: K | None = None,
        value: V | None = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: HeadersArg = None,
        schema: Schema | None = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        callback: MessageCallback | None = None,
        eager_partitioning: bool = False,
    ) -> FutureMessage:
        """Build the FutureMessage for a record, encoding now unless a codec needs async
        preparation (then encoding happens when it is published)."""
        name = self.get_topic_name()
        kc, k_prep = self._codec(name, True, key_serializer, schema)
        vc, v_prep = self._codec(name, False, value_serializer, schema)
        encoded = not (k_prep or v_prep)
        key_out: Any = encode_field(name, "key", kc, key) if encoded else key
        value_out: Any = encode_field(name, "value", vc, value) if encoded else value
        if eager_partitioning and partition is None and key_out is not None and encoded:
            partition = self.app.key_partition(name, key_out)
        message = PendingMessage(
            self,
            key_out,
            value_out,
            partition,
            timestamp,
            normalize_headers(headers),
            key_serializer,
            value_serializer,
            callback,
            name,
            schema=schema,
            encoded=encoded,
        )
        return FutureMessage(message)

    def send_soon(
        self,
        *,
        key: K | None = None,
        value: V | None = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: HeadersArg = None,
        schema: Schema | None = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        callback: MessageCallback | None = None,
        force: bool = False,
        eager_partitioning: bool = False,
    ) -> FutureMessage:
        """Encode now and buffer the record; the app's producer sends it in the background.

        Returns the FutureMessage, resolved once the broker acked the record. The app
        flushes the buffer when it stops.
        """
        fut = self.as_future_message(
            key,
            value,
            partition,
            timestamp,
            headers,
            schema,
            key_serializer,
            value_serializer,
            callback,
            eager_partitioning,
        )
        self.app.send_soon(fut)
        return fut

    async def deliver_message(self, fut: FutureMessage) -> Awaitable[RecordMetadata]:
        """Encode ``fut``'s record if needed and hand it to the producer; returns the
        awaitable of its delivery (it does not resolve ``fut``)."""
        message = fut.message
        name = self._topic_name_or_default(message.topic or message.channel)
        if not message.encoded:
            message.key = await self.prepare_key(
                message.key, message.key_serializer, message.schema, topic=name
            )
            message.value = await self.prepare_value(
                message.value, message.value_serializer, message.schema, topic=name
            )
            message.encoded = True
        hdrs = normalize_headers(message.headers)
        sensors = self.app.sensors
        if sensors.active:
            tokens = sensors.send_start(name, message.key, message.value is None, hdrs)
            started = time.monotonic()
        send, delivery_of, _ = self.app.send_path or await self.app.start_send_path()
        try:
            handle = await send(
                name,
                message.value,
                message.key,
                message.partition,
                None if message.timestamp is None else int(message.timestamp * 1000),
                hdrs or None,
            )
        except Exception as exc:
            error = self.app.send_error(exc, name, message.partition, message.key)
            if sensors.active:
                sensors.send_error(tokens, name, error or exc, time.monotonic() - started)
            if error is None:
                raise
            raise error from exc
        if sensors.active:
            size = len(message.key or b"") + len(message.value or b"")
            sensors.watch_delivery(tokens, name, handle, size, started)
        return delivery_of(handle, name, message.partition, message.key)

    async def publish_message(
        self, fut: FutureMessage, wait: bool = False
    ) -> Awaitable[RecordMetadata]:
        """Send ``fut``'s record. ``wait=True`` waits for the ack and returns ``fut``;
        otherwise returns an awaitable that resolves after the ack and the callback.

        The callback runs once, when ``fut`` is resolved: also when the record failed."""
        try:
            delivery = await self.deliver_message(fut)
        except Exception as exc:
            await self._failed(fut, exc)
            raise
        if wait:
            await self._finalize(fut, delivery)
            return fut
        return self.app.track(self._finalize(fut, delivery))

    async def _finalize(
        self, fut: FutureMessage, delivery: Awaitable[RecordMetadata]
    ) -> RecordMetadata:
        try:
            metadata = await delivery
        except asyncio.CancelledError:
            fut.cancel()
            raise
        except Exception as exc:
            await self._failed(fut, exc)
            raise
        if not fut.done():
            fut.set_result(metadata)
            await run_callback(fut)
        return metadata

    @staticmethod
    async def _failed(fut: FutureMessage, exc: Exception) -> None:
        if fut.done():
            return
        fut.set_exception(exc)
        # The caller gets ``exc`` raised; the future holding it too must not be reported
        # as never retrieved.
        fut.exception()
        try:
            await run_callback(fut)
        except Exception:
            log.exception("callback of the failed record for topic %r raised", fut.message.topic)
