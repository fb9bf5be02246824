"""What the registry returns: registered schemas, references, compatibility results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CompatibilityResult", "ReferencedSchema", "RegisteredSchema", "SchemaReference"]


@dataclass(frozen=True)
class SchemaReference:
    """A reference from one schema to another registered one.

    ``name`` is the Avro full name, the JSON Schema ``$ref`` URL or the proto import path.
    """

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, Any]:
        """The registry's JSON form."""
        return {"name": self.name, "subject": self.subject, "version": self.version}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SchemaReference:
        """Read the registry's JSON form."""
        return cls(str(data["name"]), str(data["subject"]), int(data["version"]))


@dataclass(frozen=True)
class ReferencedSchema:
    """A schema that another one refers to, registered before it under its own subject.

    ``name`` is how the referring schema names it (the JSON Schema ``$ref`` as written,
    or an Avro full name); ``references`` are the ones it makes in turn. A codec whose
    ``schema_references`` lists these gets them registered as the schema's references,
    under the subjects ``gen-topics push`` uses, so both register the same versions.
    """

    name: str
    subject: str
    schema_text: str
    schema_type: str = "JSON"
    references: tuple[ReferencedSchema, ...] = ()


@dataclass(frozen=True)
class RegisteredSchema:
    """A schema as the registry stores it; ``subject``/``version`` are None when fetched by id."""

    schema_id: int
    schema: str
    schema_type: str = "AVRO"
    references: tuple[SchemaReference, ...] = ()
    subject: str | None = None
    version: int | None = None

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], *, schema_id: int | None = None, subject: str | None = None
    ) -> RegisteredSchema:
        """Read a registry response (``/schemas/ids/{id}`` or ``/subjects/.../versions/...``)."""
        raw_refs = data.get("references") or []
        sid = data.get("id", schema_id)
        return cls(
            schema_id=int(sid) if sid is not None else -1,
            schema=str(data["schema"]),
            # Avro is the default and registries leave it out of responses.
            schema_type=str(data.get("schemaType") or "AVRO"),
            references=tuple(SchemaReference.from_json(r) for r in raw_refs),
            subject=str(data.get("subject", subject)) if data.get("subject", subject) else None,
            version=int(data["version"]) if data.get("version") is not None else None,
        )


@dataclass(frozen=True)
class CompatibilityResult:
    """Whether a schema may be registered under a subject, with the registry's reasons."""

    is_compatible: bool
    messages: tuple[str, ...] = ()
