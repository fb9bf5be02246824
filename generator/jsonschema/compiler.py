"""`JsonSchemaCompiler`: the generator's entry point for JSON Schema keys and values."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import GeneratorError, Problem
from generator.jsonschema.errors import JsonSchemaError
from generator.jsonschema.index import SchemaFile, SchemaIndex
from generator.jsonschema.references import JsonReference, document_references
from generator.jsonschema.render import render_modules
from generator.jsonschema.staging import plan_module
from generator.jsonschema.validation import schema_problems

__all__ = ["JsonSchemaCompiler", "JsonType"]


@dataclass(frozen=True)
class JsonType:
    """A descriptor key/value type backed by a JSON Schema file.

    ``module`` is dotted and relative to the output package (``jsonmodels.shipments``);
    ``class_name`` is the root type in it; ``schema_text`` is the file's original text
    (what a topic module embeds and registers); ``source`` is the schema file;
    ``references`` are the documents it ``$ref``s (registered with it as its references).
    """

    module: str
    class_name: str
    schema_text: str
    source: Path
    references: tuple[JsonReference, ...] = ()


class JsonSchemaCompiler:
    """Finds the JSON Schema files under a schemas folder and compiles the ones used.

    ``resolve`` is called once per descriptor key/value that names a schema; ``render``
    then produces the pydantic modules for those schemas and every schema they reference.
    """

    def __init__(self, root: Path, extra: Sequence[tuple[Path, str]] = ()) -> None:
        self.root = Path(root)
        self._extra = tuple(extra)
        self._index: SchemaIndex | None = None
        self._resolved: dict[str, SchemaFile] = {}
        self._rendered: tuple[frozenset[str], dict[str, str]] | None = None
        self._checked: dict[str, list[Problem]] = {}

    @property
    def index(self) -> SchemaIndex:
        """The schema files under the root (read on first use)."""
        if self._index is None:
            self._index = SchemaIndex(self.root, self._extra)
        return self._index

    def _find(self, ref: str, descriptor: Path) -> SchemaFile | None:
        # Lexical normalisation: "../json/a.json" must not depend on the folders on the way.
        candidate = Path(os.path.normpath(descriptor.parent / ref))
        if ref.endswith(".json") and candidate.is_dir():
            raise JsonSchemaError(f"{ref!r} is a folder ({candidate}), not a JSON Schema file")
        if ref.endswith(".json") and (candidate.is_file() or candidate.is_symlink()):
            found = self.index.by_path(candidate, self.root)
            if found is None:
                raise _outside_root(ref, candidate, self.index.root)
            return found
        return self.index.by_id(ref)

    def resolve(self, ref: str, descriptor: Path, line: int) -> JsonType:
        """Map a descriptor's key/value reference to the type generated for it.

        ``ref`` is a path relative to ``descriptor`` or a schema ``$id``. Raises
        :class:`JsonSchemaError` naming ``descriptor`` and ``line`` when it names no
        schema, or the schema file when it (or a file it references) is unusable.
        """
        try:
            schema = self._find(ref, descriptor)
        except JsonSchemaError as exc:
            raise JsonSchemaError(exc.detail, path=descriptor, line=line) from exc
        if schema is None:
            raise JsonSchemaError(
                f"{ref!r} is neither a JSON Schema file relative to this descriptor nor the "
                f"$id of a schema under {self.index.root}",
                path=descriptor,
                line=line,
            )
        if schema.document is None:
            raise JsonSchemaError(
                f"not a JSON Schema document: {schema.parse_error} (used at {descriptor}:{line})",
                path=schema.path,
                line=schema.parse_line,
            )
        # Report broken references and invalid schemas now, with their file and line.
        problems = [
            problem for used in self.index.closure([schema]) for problem in self._problems_of(used)
        ]
        if problems:
            raise GeneratorError(problems)
        self._resolved[schema.file_uri] = schema
        plan = plan_module(schema)
        references = document_references(self.index, schema)
        return JsonType(plan.dotted, plan.class_name, schema.text, schema.path, references)

    def _problems_of(self, schema: SchemaFile) -> list[Problem]:
        found = self._checked.get(schema.file_uri)
        if found is None:
            found = self._checked[schema.file_uri] = schema_problems(schema)
        return found

    def render(self) -> dict[str, str]:
        """Output path (``jsonmodels/shipments/shipment_event.py``) -> module source.

        Covers every schema resolved so far and the schemas they reference; the result is
        deterministic for a given set of files.
        """
        key = frozenset(self._resolved)
        if self._rendered is None or self._rendered[0] != key:
            starts = [self._resolved[uri] for uri in sorted(key)]
            self._rendered = (key, render_modules(self.index, starts) if starts else {})
        return dict(self._rendered[1])


def _outside_root(ref: str, path: Path, root: Path) -> JsonSchemaError:
    return JsonSchemaError(
        f"{ref!r} resolves to {path.resolve()}, which is outside the schemas folder {root}; "
        "move the schema under the schemas folder"
    )
