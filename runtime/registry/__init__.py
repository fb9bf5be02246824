"""Schema registry support: an async REST client and Confluent wire-format codecs."""

from runtime.registry.auth import RegistryAuth
from runtime.registry.client import SchemaRegistryClient
from runtime.registry.errors import (
    IncompatibleSchemaError,
    InvalidCompatibilityLevelError,
    InvalidSchemaError,
    RegistryUnavailableError,
    SchemaNotFoundError,
    SchemaRegistryError,
    SubjectNotFoundError,
    VersionNotFoundError,
)
from runtime.registry.models import (
    CompatibilityResult,
    ReferencedSchema,
    RegisteredSchema,
    SchemaReference,
)

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
