"""Exception types raised by gen_topics, each naming where the problem is.

Every error the library raises derives from :class:`GenTopicsError`, so one ``except``
clause catches them all::

    GenTopicsError
    ├── CodecError
    │   ├── UnknownCodecError (also KeyError)
    │   ├── EncodeError
    │   │   └── JsonEncodeError              (gen_topics.json_codec)
    │   └── DecodeError
    │       └── JsonDecodeError              (gen_topics.json_codec)
    ├── TransientDecodeError                 (not a DecodeError: retried, never skipped)
    ├── DeadLetterError
    ├── SeekError (also ValueError)
    ├── CommitFailed
    ├── TransactionError                     (exactly-once processing)
    │   ├── TransactionFencedError
    │   │   └── MemberFencedError            (the group fenced this member: KIP-447)
    │   └── TransactionTimeoutError
    ├── DeclareError
    ├── DeliveryError
    ├── UndeliveredRecordsError
    ├── TopicConfigMismatch
    ├── SchemaRegistryError                  (gen_topics.registry)
    │   ├── SubjectNotFoundError
    │   ├── VersionNotFoundError
    │   ├── SchemaNotFoundError
    │   ├── IncompatibleSchemaError
    │   ├── InvalidSchemaError
    │   ├── InvalidCompatibilityLevelError
    │   └── RegistryUnavailableError
    ├── SubjectNameError (also ValueError)   (gen_topics.registry)
    └── UnknownPartitionError (also ValueError)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gen_topics._messages import FutureMessage, PendingMessage

__all__ = [
    "CodecError",
    "CommitFailed",
    "DeadLetterError",
    "DeclareError",
    "DecodeError",
    "DeliveryError",
    "EncodeError",
    "GenTopicsError",
    "MemberFencedError",
    "SeekError",
    "TopicConfigMismatch",
    "TransactionError",
    "TransactionFencedError",
    "TransactionTimeoutError",
    "TransientDecodeError",
    "UndeliveredRecordsError",
    "UnknownCodecError",
    "UnknownPartitionError",
]


class GenTopicsError(Exception):
    """Base class of every error raised by gen_topics (the tree is in this module's docstring)."""


class CodecError(GenTopicsError):
    """A codec could not turn a value into bytes or bytes into a value."""


class UnknownCodecError(CodecError, KeyError):
    """`get_codec` was given a name that is not registered."""

    def __str__(self) -> str:
        # KeyError would otherwise repr() the message and add quotes.
        return str(self.args[0]) if self.args else ""


class EncodeError(CodecError):
    """A key or value did not encode to bytes; nothing was sent.

    Attributes name the topic and which field (``"key"`` or ``"value"``) failed.
    """

    def __init__(self, message: str, *, topic: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.topic = topic
        self.field = field


class DecodeError(CodecError):
    """A consumed record's key or value did not decode.

    Carries the record's coordinates so the reader can log, skip or dead-letter it;
    the record's offset is only committed once the reader moves past the error.
    """

    def __init__(
        self,
        message: str,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        field: str | None = None,
        data: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.field = field
        self.data = data


class CommitFailed(GenTopicsError):
    """The group did not take a commit: it is rebalancing or already moved the partitions on.

    Nothing is lost: the offsets stay uncommitted, so the partitions' next owner (this member
    again, or another) reads those records again.
    """

    def __init__(self, message: str, *, offsets: dict[tuple[str, int], int]) -> None:
        super().__init__(message)
        self.offsets = offsets


class DeclareError(GenTopicsError):
    """Creating or describing a topic on the broker failed."""


class TopicConfigMismatch(GenTopicsError):
    """An existing topic's partitions or config differ from its declaration.

    ``differences`` maps each differing setting to ``(declared, actual)``.
    """

    def __init__(self, topic: str, differences: dict[str, tuple[object, object]]) -> None:
        detail = "; ".join(
            f"{name}: declared {declared!r}, broker has {actual!r}"
            for name, (declared, actual) in sorted(differences.items())
        )
        super().__init__(f"topic {topic!r} exists with a different configuration: {detail}")
        self.topic = topic
        self.differences = differences


class DeliveryError(GenTopicsError):
    """The broker did not acknowledge a record (the client's own error is ``__cause__``).

    The message names the topic, the partition when it is known, how long the record was
    retried and what to check. ``retriable`` is True when the cause is transient (the broker
    unreachable, no leader, too few in-sync replicas): sending again later may succeed.
    ``elapsed`` is the time in seconds from queueing the record to giving up, when measured.
    A record that was not acknowledged may still have been written (its acknowledgement may
    be what was lost): sending it again is at-least-once.
    """

    def __init__(
        self,
        message: str,
        *,
        topic: str,
        partition: int | None = None,
        elapsed: float | None = None,
        retriable: bool = False,
    ) -> None:
        super().__init__(message)
        self.topic = topic
        self.partition = partition
        self.elapsed = elapsed
        self.retriable = retriable


class UndeliveredRecordsError(GenTopicsError):
    """``App.stop()`` could not deliver every record it owed (buffered by ``send_soon``).

    Raised after the app stopped, once the wait for acknowledgements (``producer_stop_timeout``)
    ran out or records failed. Each record's future is resolved with its own error and its
    callback has run; ``messages`` gives the futures back (``pending`` their records) so the
    caller can persist them or send them again; ``counts`` maps each topic to how many of its
    records were not delivered.
    """

    def __init__(self, message: str, messages: Sequence[FutureMessage]) -> None:
        super().__init__(message)
        self.messages: list[FutureMessage] = list(messages)
        self.counts: dict[str, int] = dict(Counter(str(fut.message.topic) for fut in self.messages))

    @property
    def pending(self) -> list[PendingMessage]:
        """The undelivered records themselves (topic, key, value, headers, ...)."""
        return [fut.message for fut in self.messages]


class TransientDecodeError(GenTopicsError):
    """A record could not be decoded for a reason that passes (the schema registry was
    unreachable or timed out), not because it is bad.

    Deliberately not a :class:`DecodeError`: a handler that skips or dead-letters bad records
    must never catch it. The reader retries the record with backoff; when it gives up it raises
    this error and stops, and the record's offset is never committed, so the next run reads it
    again. ``attempts`` and ``waited`` (seconds) say how long it tried.
    """

    def __init__(
        self,
        message: str,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        field: str | None = None,
        attempts: int = 0,
        waited: float = 0.0,
    ) -> None:
        super().__init__(message)
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.field = field
        self.attempts = attempts
        self.waited = waited


class DeadLetterError(GenTopicsError):
    """A record that does not decode could not be produced to its dead-letter topic; it is
    not committed, and the next read tries the same record again."""

    def __init__(
        self,
        message: str,
        *,
        topic: str,
        partition: int,
        offset: int,
        dead_letter_topic: str,
    ) -> None:
        super().__init__(message)
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.dead_letter_topic = dead_letter_topic


class UnknownPartitionError(GenTopicsError, ValueError):
    """A record was sent to a partition the topic does not have."""


class SeekError(GenTopicsError, ValueError):
    """A seek (or a position query) named a partition this app does not read now, or a
    negative offset."""


class TransactionError(GenTopicsError):
    """An exactly-once transaction could not begin or commit: the broker does not allow
    transactions, it did not finish in time, or (see :class:`TransactionFencedError`) a newer
    instance took over. Nothing of the transaction is visible to ``read_committed`` readers,
    and its input offsets stay uncommitted, so the records are processed again."""


class TransactionFencedError(TransactionError):
    """Another instance took this one's work over, so it may not commit (it is a zombie): a
    newer producer with the same transactional id started, or (:class:`MemberFencedError`)
    the consumer group gave this member's partitions to another member. The transaction is
    aborted; the records are processed again by whoever owns their partitions now."""


class MemberFencedError(TransactionFencedError):
    """The consumer group refused this member's transaction offsets (KIP-447): its generation
    is stale or its member id unknown (the group rebalanced without it, e.g. it took longer
    than the session timeout to give its partitions up), or its static group instance id was
    taken over. The transaction is aborted and its events are not acked; the partitions' new
    owner processes them. The member itself rejoins the group and goes on.

    ``reason`` is the coordinator's error (``ILLEGAL_GENERATION``, ``UNKNOWN_MEMBER_ID``,
    ``FENCED_INSTANCE_ID``, or ``NOT_A_MEMBER`` when the consumer had already lost its
    membership and the commit was refused before it was sent).
    """

    def __init__(
        self,
        message: str,
        *,
        group_id: str,
        generation_id: int,
        member_id: str,
        reason: str,
    ) -> None:
        super().__init__(message)
        self.group_id = group_id
        self.generation_id = generation_id
        self.member_id = member_id
        self.reason = reason


class TransactionTimeoutError(TransactionError):
    """The transaction was open longer than ``producer_transaction_timeout_ms`` (processing
    took too long, or ``transaction_commit_interval`` is too long for it), so the broker
    aborted it. None of it is visible to ``read_committed`` readers and its input offsets are
    not committed: the events are processed again. ``elapsed`` is how long it was open, in
    seconds; ``timeout`` the setting, in seconds."""

    def __init__(self, message: str, *, elapsed: float, timeout: float) -> None:
        super().__init__(message)
        self.elapsed = elapsed
        self.timeout = timeout
