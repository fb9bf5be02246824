"""App settings with Faust's defaults where Faust has one."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, TypeVar

from gen_topics._transport.base import ConsumerSettings, ProducerSettings

__all__ = ["AppSettings", "MismatchPolicy", "ProcessingGuarantee", "Settings"]

_Part = TypeVar("_Part", ProducerSettings, ConsumerSettings)

MismatchPolicy = Literal["warn", "raise", "ignore"]
ProcessingGuarantee = Literal["at_least_once", "exactly_once"]


@dataclass(frozen=True)
class Settings:
    """Everything an :class:`~gen_topics.App` is configured with (``app.conf``).

    The one owner of the App's settings and their defaults: ``App(id, **settings)`` takes
    these fields as keywords (typed by :class:`AppSettings`), and the producer and consumer
    settings are read from the ``producer_*`` / ``consumer_*`` fields by name.
    ``consumer_group_id`` defaults to ``id``.
    """

    id: str
    broker: str = "memory://"
    topic_partitions: int = 8
    topic_replication_factor: int = 1
    topic_allow_declare: bool = True
    topic_config_mismatch: MismatchPolicy = "warn"
    key_serializer: str = "raw"
    value_serializer: str = "json"
    stream_buffer_maxsize: int = 4096
    producer_acks: int | str = -1
    producer_linger_ms: int = 0
    producer_compression_type: str | None = None
    producer_enable_idempotence: bool = False
    producer_request_timeout_ms: int = 40000
    producer_max_batch_size: int = 16384
    producer_stop_timeout: float = 60.0
    consumer_group_id: str = ""
    consumer_auto_offset_reset: str = "earliest"
    consumer_metadata_max_age_ms: int = 300000
    consumer_max_poll_records: int | None = None
    commit_interval: float = 2.8
    client_id: str | None = None
    registry_auto_register: bool = True
    consumer_decode_retry_timeout: float = 60.0
    tracing: bool = False
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    processing_guarantee: ProcessingGuarantee = "at_least_once"
    transaction_commit_interval: float | None = None
    producer_transactional_id: str | None = None
    producer_transaction_timeout_ms: int = 60000
    consumer_isolation_level: str = "read_uncommitted"

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("App id must be a non-empty string (it is the default group id)")
        if not self.consumer_group_id:
            object.__setattr__(self, "consumer_group_id", self.id)
        if self.topic_config_mismatch not in ("warn", "raise", "ignore"):
            raise ValueError(
                f"topic_config_mismatch must be 'warn', 'raise' or 'ignore', "
                f"got {self.topic_config_mismatch!r}"
            )
        if self.consumer_auto_offset_reset not in ("earliest", "latest"):
            raise ValueError(
                "consumer_auto_offset_reset must be 'earliest' or 'latest', "
                f"got {self.consumer_auto_offset_reset!r}"
            )
        if self.topic_partitions < 1:
            raise ValueError(f"topic_partitions must be >= 1, got {self.topic_partitions}")
        if not self.producer_stop_timeout > 0:
            raise ValueError(
                f"producer_stop_timeout must be > 0 seconds, got {self.producer_stop_timeout!r}"
            )
        if self.consumer_decode_retry_timeout < 0:
            raise ValueError(
                "consumer_decode_retry_timeout must be >= 0 seconds, "
                f"got {self.consumer_decode_retry_timeout}"
            )
        if self.processing_guarantee not in ("at_least_once", "exactly_once"):
            raise ValueError(
                "processing_guarantee must be 'at_least_once' or 'exactly_once', "
                f"got {self.processing_guarantee!r}"
            )
        if self.consumer_isolation_level not in ("read_uncommitted", "read_committed"):
            raise ValueError(
                "consumer_isolation_level must be 'read_uncommitted' or 'read_committed', "
                f"got {self.consumer_isolation_level!r}"
            )
        if self.transaction_commit_interval is not None and self.transaction_commit_interval < 0:
            raise ValueError(
                "transaction_commit_interval must be None (commit per event or batch) or "
                f">= 0 seconds, got {self.transaction_commit_interval!r}"
            )
        if self.exactly_once:
            if self.producer_transactional_id is None:
                # Unique per instance (like Kafka Streams' exactly-once v2): two replicas of a
                # service must not fence each other's producer. A zombie instance is fenced by
                # the consumer group's generation instead (KIP-447, TxnOffsetCommit v3).
                name = self.client_id or self.id
                tid = f"{self.consumer_group_id}-{name}-{uuid.uuid4().hex[:12]}"
                object.__setattr__(self, "producer_transactional_id", tid)
            object.__setattr__(self, "consumer_isolation_level", "read_committed")
        if self.producer_acks not in (0, 1, -1, "all"):
            raise ValueError(f"producer_acks must be 0, 1, -1 or 'all', got {self.producer_acks!r}")

    @property
    def exactly_once(self) -> bool:
        """Whether ``processing_guarantee`` is ``"exactly_once"``."""
        return self.processing_guarantee == "exactly_once"

    def producer(self) -> ProducerSettings:
        """The producer's settings: the ``producer_*`` fields (and ``client_id``)."""
        return self._part(ProducerSettings, "producer_")

    def consumer(self, **overrides: Any) -> ConsumerSettings:
        """The consumer's settings: the ``consumer_*`` fields (and ``client_id``)."""
        return self._part(ConsumerSettings, "consumer_", **overrides)

    def _part(self, cls: type[_Part], prefix: str, **overrides: Any) -> _Part:
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            for name in (prefix + f.name, f.name):
                if hasattr(self, name) and name != "id":
                    values[f.name] = getattr(self, name)
                    break
        values.update(overrides)
        return cls(**values)


class AppSettings(TypedDict, total=False):
    """:class:`Settings` (less ``id``) as keyword arguments of ``App``; see there."""

    broker: str
    topic_partitions: int
    topic_replication_factor: int
    topic_allow_declare: bool
    topic_config_mismatch: MismatchPolicy
    key_serializer: str
    value_serializer: str
    stream_buffer_maxsize: int
    producer_acks: int | str
    producer_linger_ms: int
    producer_compression_type: str | None
    producer_enable_idempotence: bool
    producer_request_timeout_ms: int
    producer_max_batch_size: int
    producer_stop_timeout: float
    consumer_group_id: str
    consumer_auto_offset_reset: str
    consumer_metadata_max_age_ms: int
    consumer_max_poll_records: int | None
    commit_interval: float
    client_id: str | None
    registry_auto_register: bool
    consumer_decode_retry_timeout: float
    tracing: bool
    metrics_port: int | None
    metrics_host: str
    processing_guarantee: ProcessingGuarantee
    transaction_commit_interval: float | None
    producer_transactional_id: str | None
    producer_transaction_timeout_ms: int
    consumer_isolation_level: str
