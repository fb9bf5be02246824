"""Errors raised while loading, resolving or compiling JSON Schema files."""

from __future__ import annotations

from pathlib import Path

from generator.errors import GeneratorError, Problem

__all__ = ["JsonSchemaError"]


class JsonSchemaError(GeneratorError):
    """A JSON Schema file or a descriptor's reference to one cannot be compiled.

    ``path`` and ``line`` say where the problem is (the descriptor for an unresolvable
    reference, the schema file for a broken schema; line 1 when no better line is known);
    ``detail`` says what is wrong and what was expected. It is a
    :class:`~generator.errors.GeneratorError`, so the command reports it like any other
    input problem.
    """

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None) -> None:
        super().__init__([Problem(str(path) if path else "<json schemas>", line or 1, message)])
        self.path = path
        self.line = line
        self.detail = message
