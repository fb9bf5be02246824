"""Load YAML keeping the line of every value, so descriptor errors can say where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from generator.errors import GeneratorError


@dataclass(frozen=True)
class Node:
    """A YAML value with its 1-based line.

    ``value`` is a ``dict[str, Node]`` for mappings, a ``list[Node]`` for sequences
    and a plain Python scalar otherwise.
    """

    value: Any
    line: int


def load_yaml(text: str, file: str) -> Node | None:
    """Parse ``text`` into :class:`Node` values; ``None`` for an empty document.

    Raises :class:`GeneratorError` for YAML syntax errors, non-string keys and duplicate keys.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        return _convert(loader, root, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise GeneratorError.single(file, line, f"invalid YAML: {exc.problem or exc}") from exc
    finally:
        loader.dispose()


def _convert(loader: yaml.SafeLoader, node: yaml.Node, file: str) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise GeneratorError.single(file, key_line, f"keys must be strings, got {key!r}")
            if key in out:
                raise GeneratorError.single(
                    file, key_line, f"duplicate key {key!r} (first at line {out[key].line})"
                )
            value = _convert(loader, value_node, file)
            # Report a value's problems at its key's line: that is where users look.
            out[key] = Node(value.value, key_line)
        return Node(out, line)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(loader, item, file) for item in node.value], line)
    return Node(loader.construct_object(node, deep=True), line)
