"""gen-topics runtime: what generated topic modules import at run time.

``App`` connects to a broker (``kafka://host:port`` or the embedded ``memory://``);
``Topic[K, V]`` is the typed base class every generated topic subclasses.
"""

from runtime.app import App
from runtime.codecs import AvroCodec, Codec, PreparedCodec, SchemaCodec, get_codec
from runtime.errors import (
    CodecError,
    CommitFailed,
    DeclareError,
    DecodeError,
    EncodeError,
    TopicConfigMismatch,
)
from runtime.events import Event
from runtime.messages import TP, FutureMessage, Message, PendingMessage, RecordMetadata
from runtime.schema import Schema
from runtime.topic import Topic

__all__ = [
    "TP",
    "App",
    "AvroCodec",
    "Codec",
    "CodecError",
    "CommitFailed",
    "DeclareError",
    "DecodeError",
    "EncodeError",
    "Event",
    "FutureMessage",
    "Message",
    "PendingMessage",
    "PreparedCodec",
    "RecordMetadata",
    "Schema",
    "SchemaCodec",
    "Topic",
    "TopicConfigMismatch",
    "get_codec",
]
