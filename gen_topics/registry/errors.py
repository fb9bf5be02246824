"""Errors from the schema registry, carrying HTTP status, error_code and message."""

from __future__ import annotations

from gen_topics.errors import GenTopicsError

__all__ = [
    "IncompatibleSchemaError",
    "InvalidCompatibilityLevelError",
    "InvalidSchemaError",
    "RegistryUnavailableError",
    "SchemaNotFoundError",
    "SchemaRegistryError",
    "SubjectNotFoundError",
    "VersionNotFoundError",
    "error_for",
]


class SchemaRegistryError(GenTopicsError):
    """The registry answered with an error (or could not be reached).

    ``status`` is the HTTP status (0 when no answer came), ``error_code`` the registry's
    code (e.g. 40401), ``registry_message`` its text; ``request`` is ``"METHOD /path"``
    without host, query or credentials.
    """

    def __init__(
        self,
        registry_message: str,
        *,
        status: int = 0,
        error_code: int | None = None,
        request: str = "",
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.registry_message = registry_message
        self.request = request
        code = f" error_code {error_code}" if error_code is not None else ""
        where = f" on {request}" if request else ""
        answer = f"HTTP {status}{code}" if status else "request failed"
        super().__init__(f"schema registry {answer}{where}: {registry_message}")


class SubjectNotFoundError(SchemaRegistryError):
    """40401: the subject does not exist (or has no live versions)."""


class VersionNotFoundError(SchemaRegistryError):
    """40402: the subject has no such version."""


class SchemaNotFoundError(SchemaRegistryError):
    """40403: no schema with that id, or the schema is not registered under the subject."""


class IncompatibleSchemaError(SchemaRegistryError):
    """HTTP 409: the schema breaks the subject's compatibility level."""


class InvalidSchemaError(SchemaRegistryError):
    """42201: the registry could not parse the schema (or its references)."""


class InvalidCompatibilityLevelError(SchemaRegistryError):
    """42203: not a compatibility level the registry knows."""


class RegistryUnavailableError(SchemaRegistryError):
    """No usable answer after the retries: connection failures, timeouts, 5xx or 429."""


_BY_CODE: dict[int, type[SchemaRegistryError]] = {
    40401: SubjectNotFoundError,
    40402: VersionNotFoundError,
    40403: SchemaNotFoundError,
    42201: InvalidSchemaError,
    42203: InvalidCompatibilityLevelError,
}


def error_for(status: int, error_code: int | None) -> type[SchemaRegistryError]:
    """The exception class for an HTTP status and registry error code."""
    if status == 409:
        # Confluent says 40901, karapace 409: the status is what counts.
        return IncompatibleSchemaError
    if error_code is not None and error_code in _BY_CODE:
        return _BY_CODE[error_code]
    if status == 404 and error_code is None:
        return SchemaRegistryError
    if status >= 500 or status == 429:
        return RegistryUnavailableError
    return SchemaRegistryError
