"""App settings with Faust's defaults where Faust has one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["MismatchPolicy", "Settings"]

MismatchPolicy = Literal["warn", "raise", "ignore"]


@dataclass(frozen=True)
class Settings:
    """Everything an :class:`~gen_topics._app.App` is configured with (``app.conf``)."""

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
    consumer_group_id: str = ""
    consumer_auto_offset_reset: str = "earliest"
    consumer_metadata_max_age_ms: int = 300000
    consumer_max_poll_records: int | None = None
    commit_interval: float = 2.8
    client_id: str | None = None
    registry_auto_register: bool = True
    consumer_decode_retry_timeout: float = 60.0

    def __post_init__(self) -> None:
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
        if self.consumer_decode_retry_timeout < 0:
            raise ValueError(
                "consumer_decode_retry_timeout must be >= 0 seconds, "
                f"got {self.consumer_decode_retry_timeout}"
            )
        if self.producer_acks not in (0, 1, -1, "all"):
            raise ValueError(f"producer_acks must be 0, 1, -1 or 'all', got {self.producer_acks!r}")
