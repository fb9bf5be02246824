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
    ├── CommitFailed
    ├── DeclareError
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

__all__ = [
    "CodecError",
    "CommitFailed",
    "DeclareError",
    "DecodeError",
    "EncodeError",
    "GenTopicsError",
    "TopicConfigMismatch",
    "UnknownCodecError",
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
