"""Load an AsyncAPI document (YAML or JSON) keeping the line of every value by JSON pointer,
so that errors can say ``file:line`` and where in the document (``#/channels/orders``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from generator.errors import GeneratorError
from generator.yaml_lines import Node, load_yaml

__all__ = ["Document", "escape", "load_document", "pointer_join"]


def escape(token: str) -> str:
    """A JSON pointer token (RFC 6901): ``~`` -> ``~0``, ``/`` -> ``~1``."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """The inverse of :func:`escape`."""
    return token.replace("~1", "/").replace("~0", "~")


def pointer_join(pointer: str, *tokens: str | int) -> str:
    """``pointer_join("/channels", "orders")`` -> ``"/channels/orders"``."""
    return pointer + "".join(f"/{escape(str(t))}" for t in tokens)


@dataclass
class Document:
    """A parsed AsyncAPI document: plain data, and the line of each value by JSON pointer."""

    file: str  # as reported: relative to the schemas folder
    path: Path
    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, pointer: str) -> int:
        """The line of the value at ``pointer``, or of its nearest parent that has one."""
        while pointer:
            if pointer in self.lines:
                return self.lines[pointer]
            pointer = pointer.rsplit("/", 1)[0]
        return self.lines.get("", 1)

    def where(self, pointer: str) -> str:
        """``#/channels/orders``: how messages name a place in the document."""
        return f"#{pointer}" if pointer else "#"

    def get(self, pointer: str) -> tuple[bool, Any]:
        """(found, value) at ``pointer`` (``""`` is the whole document)."""
        node: Any = self.data
        if not pointer:
            return True, node
        for raw in pointer[1:].split("/"):
            token = unescape(raw)
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return False, None
        return True, node


def load_document(path: Path, rel: str) -> Document:
    """Parse ``path`` (reported as ``rel``); raise :class:`GeneratorError` for syntax errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GeneratorError.single(rel, 1, f"cannot read the AsyncAPI document: {exc}") from exc
    json_data: Any = None
    if path.suffix == ".json":
        try:
            json_data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GeneratorError.single(
                rel, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})"
            ) from exc
        # The values are JSON's; YAML (a superset) only finds the lines. What YAML would
        # refuse but JSON allows (tabs between tokens, control characters and "\/" in
        # strings) is blanked out first: no line moves.
        text = _YAML_REFUSES.sub(" ", text.replace("\\/", "/ "))
    root = load_yaml(text, rel)
    if root is None:
        raise GeneratorError.single(rel, 1, "empty AsyncAPI document; expected 'asyncapi: 3.0.0'")
    lines: dict[str, int] = {}
    data = _plain(root, "", lines)
    return Document(rel, path, data if json_data is None else json_data, lines)


_YAML_REFUSES = re.compile("[^\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _plain(node: Node, pointer: str, lines: dict[str, int]) -> Any:
    lines[pointer] = node.line
    if isinstance(node.value, dict):
        return {k: _plain(v, pointer_join(pointer, k), lines) for k, v in node.value.items()}
    if isinstance(node.value, list):
        return [_plain(v, pointer_join(pointer, i), lines) for i, v in enumerate(node.value)]
    if isinstance(node.value, date):
        # YAML reads an unquoted 2024-01-01 as a date; JSON Schema and Avro want the text.
        return node.value.isoformat()
    return node.value
