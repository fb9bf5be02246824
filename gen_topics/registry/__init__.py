"""Schema registry support: an async REST client and Confluent wire-format codecs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gen_topics.registry.auth import RegistryAuth
from gen_topics.registry.errors import (
    IncompatibleSchemaError,
    InvalidCompatibilityLevelError,
    InvalidSchemaError,
    RegistryUnavailableError,
    SchemaNotFoundError,
    SchemaRegistryError,
    SubjectNotFoundError,
    VersionNotFoundError,
)
from gen_topics.registry.models import (
    CompatibilityResult,
    ReferencedSchema,
    RegisteredSchema,
    SchemaReference,
)

if TYPE_CHECKING:
    from gen_topics.registry.client import SchemaRegistryClient


def __getattr__(name: str) -> Any:
    # The client pulls in httpx (~0.1 s); code that only needs subject names or Avro
    # names (the generator, every gen-topics run) should not pay for it.
    if name == "SchemaRegistryClient":
        from gen_topics.registry.client import SchemaRegistryClient

        return SchemaRegistryClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CompatibilityResult",
    "IncompatibleSchemaError",
    "InvalidCompatibilityLevelError",
    "InvalidSchemaError",
    "ReferencedSchema",
    "RegisteredSchema",
    "RegistryAuth",
    "RegistryUnavailableError",
    "SchemaNotFoundError",
    "SchemaReference",
    "SchemaRegistryClient",
    "SchemaRegistryError",
    "SubjectNotFoundError",
    "VersionNotFoundError",
]
