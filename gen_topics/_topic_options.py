"""TopicOptions: a topic's declaration and reading options, in one frozen object.

The one place the options are declared: ``TopicOptions`` holds names, types, defaults and
validation; ``TopicOptionArgs`` types them as keyword arguments of ``Topic(...)``,
``app.topic(...)`` and ``derive(...)`` (a test keeps the two in step).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any, TypedDict

from gen_topics._declare import parse_retention
from gen_topics._decode_policy import DecodePolicy, check_policy

__all__ = ["TopicOptionArgs", "TopicOptions"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TopicOptions:
    """How a topic is declared and read. ``None`` leaves a setting to the broker or the app.

    Generated topic classes set ``default_options``; keyword arguments of the constructor
    (and of :meth:`Topic.derive`) replace single options, ``None`` meaning "keep".
    """

    #: Partitions to create the topic with (``None``: the app's ``topic_partitions``).
    partitions: int | None = None
    #: Replication factor to create it with (``None``: the app's default).
    replicas: int | None = None
    #: ``retention.ms``: seconds, a timedelta, or text such as ``"7d"``.
    retention: timedelta | float | str | None = None
    #: ``cleanup.policy`` includes ``compact``.
    compacting: bool | None = None
    #: ``cleanup.policy`` includes ``delete``.
    deleting: bool | None = None
    #: Whether read events are acked (and so committed); False only for fire-and-forget reads.
    acks: bool = True
    #: Marks a topic internal to the app (Faust compatibility).
    internal: bool = False
    #: Further broker config of the topic (``min.insync.replicas``, ...), read-only.
    config: Mapping[str, Any] = dataclasses.field(default_factory=lambda: _EMPTY)
    #: Bound of the reader's delivery queue (``None``: the app's ``stream_buffer_maxsize``).
    maxsize: int | None = None
    #: Whether a derive added a prefix to the names (Faust compatibility).
    has_prefix: bool = False
    #: What a reader does with a record that does not decode: ``raise``, ``skip`` or
    #: ``dead_letter`` (never applied to a transient failure such as the registry unreachable).
    on_decode_error: DecodePolicy = "raise"
    #: Where ``dead_letter`` produces such records (``None``: ``<topic>.dlq``).
    dead_letter_topic: str | None = None

    def __post_init__(self) -> None:
        if self.partitions == 0:
            raise ValueError("Topic cannot have zero partitions")
        parse_retention(self.retention)  # fail at construction, not at declare time
        check_policy(self.on_decode_error)
        if not isinstance(self.config, MappingProxyType):
            object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    def replace(self, **changes: Any) -> TopicOptions:
        """A copy with ``changes`` applied; a ``None`` change keeps the current value."""
        given = {name: value for name, value in changes.items() if value is not None}
        return dataclasses.replace(self, **given) if given else self

    @property
    def retention_seconds(self) -> float | None:
        """Retention in seconds, whatever form it was given in."""
        return parse_retention(self.retention)


class TopicOptionArgs(TypedDict, total=False):
    """:class:`TopicOptions` as keyword arguments (see there for what each means)."""

    partitions: int | None
    replicas: int | None
    retention: timedelta | float | str | None
    compacting: bool | None
    deleting: bool | None
    acks: bool | None
    internal: bool | None
    config: Mapping[str, Any] | None
    maxsize: int | None
    has_prefix: bool | None
    on_decode_error: DecodePolicy | None
    dead_letter_topic: str | None
