"""Schema: the key/value types and serializers of a topic (Faust's ``faust.Schema``).

Unlike Faust, a Schema is immutable: a topic given a schema plus overrides builds a
new Schema with :meth:`Schema.replace` and the caller's object is never changed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gen_topics.codecs import Codec

__all__ = ["Schema", "Serializer"]

Serializer = Codec[Any] | str
"""A codec object or the name of a registered codec (``raw``, ``str``, ``json``, ...)."""


@dataclass(frozen=True)
class Schema:
    """Key and value types and serializers; ``None`` means "use the default"."""

    key_type: Any = None
    value_type: Any = None
    key_serializer: Serializer | None = None
    value_serializer: Serializer | None = None
    allow_empty: bool = False

    def replace(
        self,
        *,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: Serializer | None = None,
        value_serializer: Serializer | None = None,
        allow_empty: bool | None = None,
    ) -> Schema:
        """Return a copy where each non-``None`` argument replaces its field; self is untouched."""
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("key_type", key_type),
                ("value_type", value_type),
                ("key_serializer", key_serializer),
                ("value_serializer", value_serializer),
                ("allow_empty", allow_empty),
            )
            if value is not None
        }
        return dataclasses.replace(self, **changes) if changes else self
