"""What a compatibility check reports: levels and findings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CompatibilityLevel",
    "Finding",
    "InvalidLevelError",
    "SchemaTextError",
    "parse_level",
]


class InvalidLevelError(ValueError):
    """A compatibility level name is not one the registries know."""


class CompatibilityLevel(StrEnum):
    """The schema-registry compatibility levels (Confluent names)."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        """True when every earlier version is checked, not only the latest."""
        return self.value.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """True when the new schema must read data written with the old ones."""
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """True when the old schemas must read data written with the new one."""
        return self.value.startswith(("FORWARD", "FULL"))


def parse_level(name: str) -> CompatibilityLevel:
    """Parse a level name case-insensitively; raise :class:`InvalidLevelError` otherwise."""
    try:
        return CompatibilityLevel(name.strip().upper())
    except ValueError:
        valid = ", ".join(level.value for level in CompatibilityLevel)
        raise InvalidLevelError(
            f"invalid compatibility level {name!r}; expected one of {valid}"
        ) from None


class SchemaTextError(ValueError):
    """A schema text the checker cannot read.

    ``path`` is where in the schema (a JSON pointer, ``/fields/0/type`` or
    ``#/properties/x``; None when the text as a whole is unreadable); ``source`` names
    which compared schema it is (``new``, or the label of an earlier version).
    """

    def __init__(self, problem: str, path: str | None = None, source: str = "") -> None:
        self.problem = problem
        self.path = path
        self.source = source
        where = "" if path is None else f"{path or '/'}: "
        super().__init__(f"{source}: {where}{problem}" if source else f"{where}{problem}")

    def in_source(self, source: str) -> SchemaTextError:
        """The same error, saying which schema it is in."""
        return type(self)(self.problem, self.path, source)


@dataclass(frozen=True)
class Finding:
    """One incompatibility (or, with ``compatible=True``, a noted compatible change).

    ``rule`` is a stable identifier (Avro: ``TYPE_MISMATCH``, ``READER_FIELD_MISSING_DEFAULT_VALUE``
    ...; JSON Schema: Confluent's difference types such as ``TYPE_NARROWED``); ``path`` is
    where in the schema (Avro: ``/fields/0/type``; JSON Schema: ``#/properties/foo``);
    ``direction`` is ``BACKWARD`` (new reads old) or ``FORWARD`` (old reads new);
    ``version`` labels the earlier schema it was checked against. Avro findings also name
    the innermost reader ``record`` (or enum, fixed: its full name) and ``field`` they are
    in, when there is one: what locates them in the ``.avsc`` file that defines it.
    """

    rule: str
    path: str
    message: str
    compatible: bool = False
    direction: str = "BACKWARD"
    version: str | None = None
    record: str | None = None
    field: str | None = None

    def describe(self) -> str:
        """One line for people: rule, path, message and the version compared with."""
        against = f" (against {self.version})" if self.version else ""
        return f"{self.direction} {self.rule} at {self.path}: {self.message}{against}"
