"""What a reader does with a record that does not decode: raise, skip or dead-letter it.

These policies are for records that are *bad*. A record that could not be decoded for a
transient reason (the schema registry unreachable) is a :class:`TransientDecodeError`: it is
retried, never skipped or dead-lettered (DESIGN.md, "Run-time rules").
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Literal, get_args

from gen_topics._log_fields import record_fields
from gen_topics._messages import Headers, Message, RecordMetadata
from gen_topics.errors import DeadLetterError, DecodeError

if TYPE_CHECKING:
    from gen_topics._app import App

__all__ = [
    "DLQ_ERROR",
    "DLQ_FIELD",
    "DLQ_OFFSET",
    "DLQ_PARTITION",
    "DLQ_TOPIC",
    "DecodePolicy",
    "SkipLog",
    "check_policy",
    "dead_letter",
    "dead_letter_name",
]

log = logging.getLogger("gen_topics.consumer")

DecodePolicy = Literal["raise", "skip", "dead_letter"]
"""``raise`` (the default): the reader gets the :class:`DecodeError`; ``skip``: logged,
counted, committed past; ``dead_letter``: produced unchanged to the dead-letter topic, then
committed past."""

POLICIES: tuple[str, ...] = get_args(DecodePolicy)

# Headers added to a dead-lettered record (after the original ones, which are kept).
DLQ_ERROR = "gen-topics.dlq.error"
DLQ_TOPIC = "gen-topics.dlq.topic"
DLQ_PARTITION = "gen-topics.dlq.partition"
DLQ_OFFSET = "gen-topics.dlq.offset"
DLQ_FIELD = "gen-topics.dlq.field"

_MAX_ERROR_HEADER = 2000


def check_policy(value: object) -> DecodePolicy:
    """``value`` if it is a decode-error policy, else a ``ValueError`` naming the choices."""
    if value not in POLICIES:
        raise ValueError(
            f"on_decode_error must be one of {', '.join(map(repr, POLICIES))}, got {value!r}"
        )
    return value  # type: ignore[return-value]


def dead_letter_name(topic: str, configured: str | None) -> str:
    """The dead-letter topic of ``topic``: the configured name, else ``<topic>.dlq``."""
    return configured or f"{topic}.dlq"


def dlq_headers(message: Message, error: DecodeError) -> Headers:
    """The original headers, then ours naming the error and where the record came from."""
    text = str(error)
    if len(text) > _MAX_ERROR_HEADER:
        text = text[: _MAX_ERROR_HEADER - 3] + "..."
    return [
        *message.headers,
        (DLQ_ERROR, text.encode("utf-8", "replace")),
        (DLQ_TOPIC, message.topic.encode()),
        (DLQ_PARTITION, str(message.partition).encode()),
        (DLQ_OFFSET, str(message.offset).encode()),
        (DLQ_FIELD, (error.field or "").encode()),
    ]


async def dead_letter(
    app: App, message: Message, error: DecodeError, target: str
) -> RecordMetadata:
    """Produce ``message`` unchanged (key, value, timestamp, headers kept; ours added) to
    ``target`` and wait for the broker's ack; :class:`DeadLetterError` when that fails."""
    where = f"{message.topic}[{message.partition}]@{message.offset}"
    ts = message.timestamp
    try:
        send, delivery, _ = app.send_path or await app.start_send_path()
        handle = await send(
            target,
            message.value,
            message.key,
            None,
            None if ts is None else round(ts * 1000.0),
            dlq_headers(message, error),
        )
        return await delivery(handle, target, None, message.key)
    except Exception as exc:
        raise DeadLetterError(
            f"could not dead-letter the record at {where} to topic {target!r}: "
            f"{type(exc).__name__}: {exc}; it is not committed and is tried again on the next "
            f"read (check that the broker is reachable and that {target!r} exists or may be "
            "auto-created)",
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            dead_letter_topic=target,
        ) from exc


class SkipLog:
    """Logs skipped or dead-lettered records: the first few of every ``interval`` seconds in
    full, the rest as one line with a count (a stream of bad records does not flood logs)."""

    def __init__(self, topic: str, *, burst: int = 5, interval: float = 10.0) -> None:
        self.topic = topic
        self.burst = burst
        self.interval = interval
        self._window = 0.0
        self._logged = 0
        self._held = 0
        self._last = ""

    def record(self, what: str, error: DecodeError, detail: str = "") -> None:
        """Log (or count) one ``what`` ("skipped", "dead-lettered") record."""
        now = time.monotonic()
        if now - self._window >= self.interval:
            self.flush()
            self._window = now
            self._logged = 0
        if self._logged < self.burst:
            self._logged += 1
            log.warning(
                "%s a record that does not decode: %s%s",
                what,
                error,
                detail,
                extra=record_fields(error.topic, error.partition, error.offset, field=error.field),
            )
        else:
            self._held += 1
            self._last = f"{what}, last at {error.topic}[{error.partition}]@{error.offset}"

    def flush(self) -> None:
        """Log the count of records held back since the last line, if any."""
        if self._held:
            log.warning(
                "... and %d more records of topic %r that do not decode (%s)",
                self._held,
                self.topic,
                self._last,
                extra=record_fields(self.topic),
            )
            self._held = 0


def plausible_registry_frame(data: Any) -> int | None:
    """The schema id when ``data`` starts like the schema-registry wire format (magic byte 0
    and a 4-byte id in a range registries hand out), else None."""
    if type(data) is not bytes or len(data) < 5 or data[0] != 0:
        return None
    schema_id = int.from_bytes(data[1:5], "big")
    return schema_id if 0 < schema_id < 1 << 24 else None
