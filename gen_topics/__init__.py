"""gen_topics: the run-time library that generated topic modules and services import.

``App`` connects to a broker (``kafka://host:port`` or the embedded ``memory://``);
``Topic[K, V]`` is the typed base class every generated topic subclasses. Everything a
service needs is exported here; modules whose names start with an underscore are internal.
Public submodules: :mod:`gen_topics.codecs`, :mod:`gen_topics.json_codec`,
:mod:`gen_topics.errors` and :mod:`gen_topics.registry`.
"""

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
    "get_codec",
]
