"""Encoding one key or value, with errors that name the topic and the field."""

from __future__ import annotations

from typing import Any

from gen_topics.codecs import Codec
from gen_topics.errors import EncodeError

__all__ = ["codec_label", "encode_field"]


def codec_label(codec: Any) -> str:
    """A codec's name for messages (its ``name``, else its class name)."""
    return str(getattr(codec, "name", type(codec).__name__))


def encode_field(name: str, field: str, codec: Codec[Any], obj: Any) -> bytes | None:
    """Encode ``obj`` as the ``field`` ("key"/"value") of topic ``name``.

    ``None`` stays ``None`` (a null key or a tombstone never reaches the codec). A codec
    failure, or a result that is not bytes, is an :class:`EncodeError` naming topic,
    field and codec.
    """
    if obj is None:
        return None
    try:
        data = codec.encode(obj)
    except Exception as exc:
        raise EncodeError(
            f"cannot encode the {field} for topic {name!r} with codec "
            f"{codec_label(codec)!r}: {exc}",
            topic=name,
            field=field,
        ) from exc
    if type(data) is not bytes:
        if isinstance(data, bytearray | memoryview):
            return bytes(data)
        raise EncodeError(
            f"codec {codec_label(codec)!r} returned {type(data).__name__}, not bytes, "
            f"for the {field} of topic {name!r}",
            topic=name,
            field=field,
        )
    return data
