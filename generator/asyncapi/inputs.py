"""What the AsyncAPI documents of a schemas folder contribute to a compilation.

Apart from the reader so that a compile without AsyncAPI documents never imports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.descriptors import TopicDescriptor
from generator.errors import Problem

if TYPE_CHECKING:
    from generator.asyncapi.document import Document

__all__ = ["AsyncApiInputs", "Origin"]

_AT_JSON_PATH = re.compile(r" \(at (\$[^)]*)\)")
_JSON_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


@dataclass(frozen=True)
class Origin:
    """Where a schema found inside a document is: the document and the JSON pointer."""

    document: Document
    pointer: str


@dataclass
class AsyncApiInputs:
    """What the AsyncAPI documents of a schemas folder contribute to a compilation."""

    descriptors: list[TopicDescriptor] = field(default_factory=list)
    #: Avro schemas as (registry file name, JSON text), for ``read_avro(extra=...)``.
    avro: list[tuple[str, str]] = field(default_factory=list)
    #: JSON Schemas as (absolute path under the root, text), for the JSON Schema index.
    json: list[tuple[Path, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    _origins: dict[str, Origin] = field(default_factory=dict)

    def relocate(self, problems: Iterable[Problem]) -> list[Problem]:
        """``problems`` with those found in a schema inside a document moved to the document:
        its line, and the JSON pointer of the place in it."""
        out: list[Problem] = []
        for problem in problems:
            origin = self._origins.get(problem.file)
            if origin is None:
                out.append(problem)
                continue
            doc, pointer = origin.document, origin.pointer
            message = problem.message
            # The last "(at $...)" is where the problem is (a message may name another place).
            matches = list(_AT_JSON_PATH.finditer(message))
            match = matches[-1] if matches else None
            if match is not None:
                pointer = _pointer_of_json_path(pointer, match.group(1))
                message = message[: match.start()] + message[match.end() :]
            out.append(Problem(doc.file, doc.line(pointer), f"{message} (at {doc.where(pointer)})"))
        return out

    def is_virtual(self, file: str) -> bool:
        """Whether ``file`` names a schema inside a document rather than a file."""
        return file in self._origins


def _pointer_of_json_path(base: str, json_path: str) -> str:
    from generator.asyncapi.document import pointer_join  # only documents have origins

    tokens: list[str | int] = []
    for match in _JSON_PATH_PART.finditer(json_path):
        tokens.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
    return pointer_join(base, *tokens)
