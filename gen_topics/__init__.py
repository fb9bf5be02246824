"""gen_topics: the run-time library that generated topic modules and services import.

``App`` connects to a broker (``kafka://host:port`` or the embedded ``memory://``);
``Topic[K, V]`` is the typed base class every generated topic subclasses. Everything a
service needs is exported here; modules whose names start with an underscore are internal.
Public submodules: :mod:`gen_topics.codecs`, :mod:`gen_topics.json_codec`,
:mod:`gen_topics.errors` and :mod:`gen_topics.registry`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gen_topics._app import App
    from gen_topics._events import Event
    from gen_topics._messages import TP, FutureMessage, Message, PendingMessage, RecordMetadata
    from gen_topics._runner import ShutdownReport
    from gen_topics._schema import Schema
    from gen_topics._settings import Settings
    from gen_topics._topic import Topic
    from gen_topics._topic_options import TopicOptions
    from gen_topics.codecs import AvroCodec, Codec, PreparedCodec, SchemaCodec, get_codec
    from gen_topics.errors import (
        CodecError,
        CommitFailed,
        DeadLetterError,
        DeclareError,
        DecodeError,
        DeliveryError,
        EncodeError,
        GenTopicsError,
        MemberFencedError,
        SeekError,
        TopicConfigMismatch,
        TransactionError,
        TransactionFencedError,
        TransactionTimeoutError,
        TransientDecodeError,
        UndeliveredRecordsError,
        UnknownCodecError,
        UnknownPartitionError,
    )
    from gen_topics.registry.errors import RegistryUnavailableError, SchemaRegistryError

__all__ = [
    "TP",
    "App",
    "AvroCodec",
    "Codec",
    "CodecError",
    "CommitFailed",
    "DeadLetterError",
    "DeclareError",
    "DecodeError",
    "DeliveryError",
    "EncodeError",
    "Event",
    "FutureMessage",
    "GenTopicsError",
    "MemberFencedError",
    "Message",
    "PendingMessage",
    "PreparedCodec",
    "RecordMetadata",
    "RegistryUnavailableError",
    "Schema",
    "SchemaCodec",
    "SchemaRegistryError",
    "SeekError",
    "Settings",
    "ShutdownReport",
    "Topic",
    "TopicConfigMismatch",
    "TopicOptions",
    "TransactionError",
    "TransactionFencedError",
    "TransactionTimeoutError",
    "TransientDecodeError",
    "UndeliveredRecordsError",
    "UnknownCodecError",
    "UnknownPartitionError",
    "get_codec",
]

# Name -> module defining it. Imported on first use: the code generator imports
# gen_topics.errors and the registry helpers, and must not pay for the whole run-time
# (aiokafka, the App) on every ``gen-topics`` run.
_EXPORTS: dict[str, str] = {
    "App": "gen_topics._app",
    "AvroCodec": "gen_topics.codecs",
    "Codec": "gen_topics.codecs",
    "CodecError": "gen_topics.errors",
    "CommitFailed": "gen_topics.errors",
    "DeadLetterError": "gen_topics.errors",
    "DeclareError": "gen_topics.errors",
    "DecodeError": "gen_topics.errors",
    "DeliveryError": "gen_topics.errors",
    "EncodeError": "gen_topics.errors",
    "Event": "gen_topics._events",
    "FutureMessage": "gen_topics._messages",
    "GenTopicsError": "gen_topics.errors",
    "MemberFencedError": "gen_topics.errors",
    "Message": "gen_topics._messages",
    "PendingMessage": "gen_topics._messages",
    "PreparedCodec": "gen_topics.codecs",
    "RecordMetadata": "gen_topics._messages",
    "RegistryUnavailableError": "gen_topics.registry.errors",
    "Schema": "gen_topics._schema",
    "SchemaCodec": "gen_topics.codecs",
    "SchemaRegistryError": "gen_topics.registry.errors",
    "SeekError": "gen_topics.errors",
    "UnknownPartitionError": "gen_topics.errors",
    "Settings": "gen_topics._settings",
    "ShutdownReport": "gen_topics._runner",
    "TP": "gen_topics._messages",
    "Topic": "gen_topics._topic",
    "TopicConfigMismatch": "gen_topics.errors",
    "TopicOptions": "gen_topics._topic_options",
    "TransactionError": "gen_topics.errors",
    "TransactionFencedError": "gen_topics.errors",
    "TransactionTimeoutError": "gen_topics.errors",
    "TransientDecodeError": "gen_topics.errors",
    "UndeliveredRecordsError": "gen_topics.errors",
    "UnknownCodecError": "gen_topics.errors",
    "get_codec": "gen_topics.codecs",
}


_SUBMODULES = frozenset({"codecs", "errors", "json_codec", "registry"})


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        if name in _SUBMODULES:  # ``import gen_topics`` then ``gen_topics.codecs...``
            return importlib.import_module(f"gen_topics.{name}")
        raise AttributeError(f"module 'gen_topics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
