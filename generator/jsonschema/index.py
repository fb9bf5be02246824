"""The JSON Schema files under a schemas folder, indexed by path and ``$id``.

References between files are resolved here, the way validators and registries do it:
against the document's ``$id`` (absolute ids like ``https://acme.example/x.json``),
against the file's own location (relative paths), and, for registry-style relative ids
such as GitHub's ``common/user.schema.json``, against the raw ids and the folder root.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from generator.errors import GeneratorError, ProblemCollector
from generator.input_files import find_input_files, read_input
from generator.json_input import parse_json
from generator.jsonschema.errors import JsonSchemaError

__all__ = ["DATA_KEYWORDS", "SchemaFile", "SchemaIndex", "iter_refs", "split_ref"]

# Keywords whose values are instance data, not subschemas: a "$ref" inside them is data.
DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples", "example"})


@dataclass
class SchemaFile:
    """One ``*.json`` file under the schemas folder."""

    path: Path
    relative: PurePosixPath
    text: str
    document: dict[str, Any] | None
    parse_error: str | None
    file_uri: str
    base_uri: str
    raw_id: str | None = None
    refs: list[str] = field(default_factory=list)
    #: The line ``parse_error`` is about (1 when it is about the whole file).
    parse_line: int = 1

    def require_document(self) -> dict[str, Any]:
        """The parsed schema, or a :class:`JsonSchemaError` saying why the file is unusable."""
        if self.document is None:
            raise JsonSchemaError(
                f"not a JSON Schema document: {self.parse_error}",
                path=self.path,
                line=self.parse_line,
            )
        return self.document


def split_ref(ref: str) -> tuple[str, str]:
    """``"a.json#/$defs/X"`` -> ``("a.json", "/$defs/X")``."""
    base, fragment = urldefrag(ref)
    return base, fragment


def iter_refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` string in a schema, skipping instance data (const, enum, default...)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key not in DATA_KEYWORDS:
                yield from iter_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_refs(item)


def _load(path: Path, root: Path, text: str | None = None) -> SchemaFile:
    file_uri = path.as_uri()
    relative = PurePosixPath(path.relative_to(root).as_posix())
    given = text
    text = ""
    try:
        text = read_input(path, relative.as_posix()) if given is None else given
        document = parse_json(text, relative.as_posix())
    except GeneratorError as exc:
        # Kept, and reported only if a descriptor or a $ref uses the file: a schemas folder
        # may hold other JSON (fixtures, package.json) that is none of gen-topics' business.
        problem = exc.problems[0]
        return SchemaFile(
            path, relative, text, None, problem.message, file_uri, file_uri, parse_line=problem.line
        )
    if not isinstance(document, dict):
        kind = type(document).__name__
        return SchemaFile(
            path,
            relative,
            text,
            None,
            f"top level is a {kind}, expected an object",
            file_uri,
            file_uri,
        )
    raw_id = document.get("$id", document.get("id"))
    raw_id = raw_id if isinstance(raw_id, str) and raw_id else None
    base_uri = urljoin(file_uri, raw_id) if raw_id else file_uri
    base_uri = urldefrag(base_uri)[0]
    refs = sorted(set(iter_refs(document)))
    return SchemaFile(path, relative, text, document, None, file_uri, base_uri, raw_id, refs)


class SchemaIndex:
    """All ``*.json`` files under ``root`` (hidden folders skipped), by path and ``$id``.

    Files that are not JSON objects are kept with their parse error, which is reported only
    if a descriptor or a ``$ref`` actually uses them. ``extra`` adds documents that are not
    files (absolute path under ``root``, text): the schemas inside AsyncAPI documents.
    """

    def __init__(self, root: Path, extra: Sequence[tuple[Path, str]] = ()) -> None:
        self.root = root.resolve()
        self._root_uri = self.root.as_uri() + "/"
        # Problems of the folder itself (a folder named x.avsc, a link loop) are the
        # compiler's to report; here they only mean fewer files.
        paths = find_input_files(self.root, ProblemCollector()).json
        virtual = {Path(os.path.normpath(self.root / path)): text for path, text in extra}
        paths = [p for p in paths if p not in virtual]
        self.files: tuple[SchemaFile, ...] = tuple(
            sorted(
                [*(_load(p, self.root) for p in paths)]
                + [_load(p, self.root, text) for p, text in virtual.items()],
                key=lambda schema: schema.relative,
            )
        )
        self._by_uri: dict[str, SchemaFile] = {}
        self._by_raw_id: dict[str, SchemaFile] = {}
        # Paths first, then ids: an id never shadows a real file location.
        self._by_real: dict[str, SchemaFile] = {}
        for schema in self.files:
            self._by_uri[schema.file_uri] = schema
            self._by_real.setdefault(schema.path.resolve().as_uri(), schema)
        for schema in self.files:
            if schema.raw_id is not None:
                self._by_uri.setdefault(schema.base_uri, schema)
                self._by_raw_id.setdefault(schema.raw_id, schema)

    def by_path(self, path: Path, given_root: Path | None = None) -> SchemaFile | None:
        """The indexed file at ``path``, if any.

        ``given_root`` is the schemas folder as the caller spelled it (``path`` is under
        it): the file is then found by its place in the folder, even through linked
        folders, before falling back to its real location.
        """
        if given_root is not None:
            relative = os.path.relpath(path.absolute(), given_root.absolute())
            if not relative.startswith(".."):
                found = self._by_uri.get((self.root / relative).as_uri())
                if found is not None:
                    return found
        return self._by_real.get(path.resolve().as_uri())

    def by_id(self, schema_id: str) -> SchemaFile | None:
        """The file whose ``$id`` is ``schema_id`` (absolute, or exactly as written)."""
        base = urldefrag(schema_id)[0]
        return self._by_uri.get(base) or self._by_raw_id.get(base)

    def locate(self, ref_base: str, origin: SchemaFile) -> SchemaFile | None:
        """The file a ``$ref`` (without fragment) in ``origin`` points at, if indexed."""
        candidates = (
            urljoin(origin.base_uri, ref_base),
            urljoin(origin.file_uri, ref_base),
        )
        for uri in candidates:
            found = self._by_uri.get(uri)
            if found is not None:
                return found
        found = self._by_raw_id.get(ref_base)
        if found is not None:
            return found
        return self._by_uri.get(urljoin(self._root_uri, ref_base))

    def closure(self, starts: list[SchemaFile]) -> list[SchemaFile]:
        """``starts`` plus every file they reference, transitively, in path order.

        Raises :class:`JsonSchemaError` naming the file and the ``$ref`` that points nowhere.
        """
        seen: dict[PurePosixPath, SchemaFile] = {}
        pending = list(starts)
        while pending:
            schema = pending.pop()
            if schema.relative in seen:
                continue
            schema.require_document()
            seen[schema.relative] = schema
            for ref in schema.refs:
                base, fragment = split_ref(ref)
                target = self.locate(base, schema) if base else schema
                if target is None:
                    raise JsonSchemaError(
                        f"$ref {ref!r} points to no schema file under {self.root}: "
                        "expected a path relative to this file or the $id of a schema "
                        "in the schemas folder (remote references are not fetched)",
                        path=schema.path,
                        line=_line_of(schema.text, ref),
                    )
                if target.document is not None and not _fragment_exists(target.document, fragment):
                    raise JsonSchemaError(
                        f"$ref {ref!r}: {target.relative} has no {fragment!r} "
                        "(expected a JSON pointer like '#/$defs/Name' or an $anchor)",
                        path=schema.path,
                        line=_line_of(schema.text, ref),
                    )
                if target is not schema:
                    pending.append(target)
        return [seen[key] for key in sorted(seen)]


def _fragment_exists(document: dict[str, Any], fragment: str) -> bool:
    """Whether ``#fragment`` (a JSON pointer or a plain-name anchor) exists in ``document``."""
    if fragment in ("", "/"):
        return True
    if fragment.startswith("/"):
        node: Any = document
        for token in fragment[1:].split("/"):
            token = unquote(token).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return False
        return True
    return fragment in _anchors(document)


def _anchors(node: Any) -> set[str]:
    """Plain-name anchors: ``$anchor`` (2019-09+) and ``$id: "#name"`` (draft 7)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$anchor" and isinstance(value, str):
                found.add(value)
            elif key in ("$id", "id") and isinstance(value, str) and value.startswith("#"):
                found.add(value[1:])
            elif key not in DATA_KEYWORDS:
                found |= _anchors(value)
    elif isinstance(node, list):
        for item in node:
            found |= _anchors(item)
    return found


def _line_of(text: str, needle: str) -> int | None:
    """The 1-based line where ``needle`` first appears in ``text`` (for error messages)."""
    position = text.find(json.dumps(needle))
    return None if position < 0 else text.count("\n", 0, position) + 1
