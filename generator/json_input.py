"""Parse JSON input strictly, with ``file:line`` errors for what would break later.

Python's ``json`` accepts more than JSON (``NaN``, ``Infinity``) and turns some JSON into
values no generated module can hold: ``1e400`` becomes ``inf``, an escaped lone surrogate
cannot be written as UTF-8, an integer of more than 4300 digits raises ``ValueError``, and
deep nesting raises ``RecursionError`` (in the compiler, or at import of the generated
code). Each is reported here instead, at its line, before anything else reads the value.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from generator.errors import GeneratorError

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "depth_error_line", "parse_json"]

#: The deepest nesting of arrays and objects (JSON) or sequences and mappings (YAML)
#: accepted. Real schemas stay far below it (the deepest in tests/data/corpus: 25); far
#: above it, Python's parser rejects the generated annotations (200 nested brackets).
MAX_DEPTH = 100
#: Python's default limit for int <-> str conversion: a longer literal in a generated
#: module would not even compile.
MAX_INT_DIGITS = 4300

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]|-?Infinity|NaN|-?[0-9][0-9.eE+-]*|\n', re.S)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class _BadNumber(Exception):
    def __init__(self, token: str, message: str) -> None:
        super().__init__(message)
        self.token = token
        self.message = message


def _constant(token: str) -> float:
    raise _BadNumber(
        token,
        f"{token} is not JSON: JSON numbers are finite, and a generated module could not hold "
        "this value; write a finite number",
    )


def _float(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        raise _BadNumber(
            token,
            f"number {_short(token)} is beyond the range of a 64-bit float (about +-1.8e308); "
            "Python, fastavro and pydantic would read it as infinity",
        )
    return value


def _int(token: str) -> int:
    digits = len(token.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _BadNumber(
            token,
            f"integer of {digits} digits is too long: Python reads at most {MAX_INT_DIGITS} "
            "digits, and no Avro or JSON Schema type needs more",
        )
    return int(token)


def _short(token: str) -> str:
    return token if len(token) <= 40 else f"{token[:20]}...{token[-10:]}"


def _line_where(text: str, found: Callable[[str, int], bool]) -> int:
    """The line of the first token for which ``found(token, depth)`` is true (else 1)."""
    line, depth = 1, 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
            continue
        if token in "[{":
            depth += 1
        elif token in "]}":
            depth -= 1
        if found(token, depth):
            return line
        if token.startswith('"'):
            line += token.count("\n")
    return 1


def depth_error_line(text: str, limit: int = MAX_DEPTH) -> int:
    """The line where the nesting of a JSON text first exceeds ``limit`` levels."""
    return _line_where(text, lambda token, depth: depth > limit)


def _too_deep(file: str, text: str) -> GeneratorError:
    return GeneratorError.single(
        file,
        depth_error_line(text),
        f"nested deeper than {MAX_DEPTH} levels, the limit gen-topics sets for its input "
        "(generated code this deep would not compile); flatten the schema, for example with "
        "named types",
    )


def _max_depth_exceeded(value: Any) -> bool:
    """Whether arrays/objects in ``value`` nest deeper than :data:`MAX_DEPTH` (iteratively)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _first_surrogate(value: Any) -> str | None:
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            found = _SURROGATE.search(node)
            if found:
                return found.group()
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def parse_json(text: str, file: str) -> Any:
    """Parse ``text`` (the contents of ``file``); raise :class:`GeneratorError` at its line.

    Rejects, besides invalid JSON: ``NaN``/``Infinity``, numbers beyond a 64-bit float,
    integers longer than :data:`MAX_INT_DIGITS`, nesting deeper than :data:`MAX_DEPTH`
    and escaped lone surrogates (``"\\ud800"``, not a Unicode character).
    """
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise GeneratorError.single(
            file, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})"
        ) from None
    except _BadNumber as exc:
        token = exc.token
        raise GeneratorError.single(
            file, _line_where(text, lambda t, _depth: t == token), exc.message
        ) from None
    except RecursionError:
        raise _too_deep(file, text) from None
    # Every array and object comes from a bracket in the text: with few brackets, no walk.
    if text.count("{") + text.count("[") > MAX_DEPTH and _max_depth_exceeded(value):
        raise _too_deep(file, text)
    if _SURROGATE_ESCAPE.search(text):
        surrogate = _first_surrogate(value)
        if surrogate is not None:
            escape = f"\\u{ord(surrogate):04x}"
            raise GeneratorError.single(
                file,
                _line_where(text, lambda t, _depth: escape in t.lower()),
                f'"{escape}" is an unpaired UTF-16 surrogate, not a character: it cannot be '
                "written as UTF-8; use the character itself or a complete surrogate pair",
            )
    return value
