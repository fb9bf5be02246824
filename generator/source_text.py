"""Small helpers that print Python source: string literals, docstrings, import blocks."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable

_WIDTH = 88


def py_string(text: str, indent: str = "    ") -> str:
    """A double-quoted Python literal for ``text``; long texts become a parenthesised
    concatenation of one literal per line (and per 72 characters)."""
    if len(text) <= 70 and "\n" not in text.rstrip("\n"):
        single = string_literal(text)
        if len(single) <= 72:
            return single
    if not _SPECIAL.search(text):
        # One line with only quotes to escape (embedded JSON schemas, thousands of pieces
        # per compile): the pieces string_literal would give, without a call per piece.
        literals = []
        for i in range(0, len(text), 72):
            c = text[i : i + 72]
            if c.count('"') > c.count("'"):
                literals.append("'" + c.replace("'", "\\'") + "'" if "'" in c else f"'{c}'")
            else:
                literals.append('"' + c.replace('"', '\\"') + '"' if '"' in c else f'"{c}"')
        body = f"\n{indent}".join(literals)
        return f"(\n{indent}{body}\n{indent[:-4]})"
    chunks: list[str] = []
    for line in text.splitlines(keepends=True):
        while len(line) > 72:
            chunks.append(line[:72])
            line = line[72:]
        if line:
            chunks.append(line)
    body = "\n".join(f"{indent}{string_literal(c)}" for c in chunks)
    return f"(\n{body}\n{indent[:-4]})"


# What makes a text more than one line (str.splitlines) or needs an escape besides quotes.
_SPECIAL = re.compile(r"[\\\x00-\x1f\x85\u2028\u2029]")


# What json.dumps escapes besides double quotes.
_ESCAPED = re.compile(r"[\\\x00-\x1f]")


def string_literal(text: str) -> str:
    """A Python string literal quoted as ruff format quotes it: double quotes, unless the
    text holds more double than single quotes (JSON does), so the fewest are escaped."""
    if not _ESCAPED.search(text):
        # Only quotes to escape (the usual case, by far): the same as below, without JSON.
        if text.count('"') > text.count("'"):
            return "'" + text.replace("'", "\\'") + "'"
        return '"' + text.replace('"', '\\"') + '"'
    if text[-1] == "\n" and not _ESCAPED.search(text, 0, len(text) - 1):
        # A line of a multi-line text (an .avsc file embedded as it is): the same again.
        line = string_literal(text[:-1])
        return f"{line[:-1]}\\n{line[-1]}"  # the same quotes: a newline is neither
    inner = json.dumps(text, ensure_ascii=False)[1:-1]
    if text.count('"') > text.count("'"):
        # json.dumps escaped every double quote (and backslash): swap which quote is escaped.
        return "'" + inner.replace('\\"', '"').replace("'", "\\'") + "'"
    return f'"{inner}"'


def py_bytes(data: bytes) -> str:
    """A bytes literal quoted as ruff format quotes it (``repr`` prefers single quotes)."""
    text = repr(data)
    if text.startswith("b'") and data.count(b'"') <= data.count(b"'"):
        inner = text[2:-1].replace("\\'", "'").replace('"', '\\"')
        return f'b"{inner}"'
    return text


# Characters a docstring cannot hold as they are: NUL (no Python source may contain it) and
# the other C0 controls and DEL, which editors and terminals mangle. They become escapes.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _escape(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    return text


# textwrap.wrap leaves a text that fits and holds none of these exactly as it is.
_WRAP_CHANGES = re.compile("[\t\n\x0b\x0c\r]")


def _wrap(text: str, width: int) -> list[str]:
    # The common case (a short doc) without textwrap's chunking: thousands of types call this.
    if len(text) <= width and not _WRAP_CHANGES.search(text) and text.strip() == text:
        return [text] if text else []
    return textwrap.wrap(text, width)


def docstring(
    summary: str | None,
    indent: str,
    *,
    fallback: str,
    attributes: Iterable[tuple[str, str]] = (),
) -> str:
    """A triple-quoted docstring, wrapped to the line length, safely escaped."""
    width = _WIDTH - len(indent)
    paragraphs = [p for p in (summary or fallback).strip().splitlines()]
    lines: list[str] = []
    for paragraph in paragraphs:
        wrapped = _wrap(paragraph.strip(), width) if paragraph.strip() else [""]
        lines.extend(wrapped)
    attrs = list(attributes)
    if attrs:
        lines += ["", "Attributes:"]
        for name, doc in attrs:
            wrapped = _wrap(f"{name}: {' '.join(doc.split())}", width - 4) or [name]
            lines.append(f"    {wrapped[0]}")
            lines.extend(f"        {w}" for w in wrapped[1:])
    lines = [_escape(line).rstrip() for line in lines] or [_escape(fallback)]
    if len(lines) == 1:
        return f'{indent}"""{lines[0]}"""'
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines[1:])
    return f'{indent}"""{lines[0]}\n{body}\n{indent}"""'


def header_lines(sources: Iterable[str]) -> list[str]:
    """The 'generated, do not edit' header naming the source files (no timestamps)."""
    names = sorted(set(sources))
    lines = ["Generated by gen-topics. Do not edit: change the schemas and run gen-topics again."]
    if names:
        lines += textwrap.wrap("Sources: " + ", ".join(names), _WIDTH, break_on_hyphens=False)
    return lines


def import_block(
    stdlib: Iterable[str], relative: Iterable[tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """Sorted import lines (isort order): stdlib ``import``/``from`` lines, then relative ones.

    ``relative`` holds (``from ... import x`` statement, alias) pairs.
    """
    plain = sorted(line for line in stdlib if line.startswith("import "))
    froms = sorted(line for line in stdlib if line.startswith("from "))
    rel = sorted(
        (f"{stmt} as {alias}" for stmt, alias in relative),
        key=lambda s: (-(len(s.split()[1]) - len(s.split()[1].lstrip("."))), s.split()[1], s),
    )
    return plain + froms, rel
