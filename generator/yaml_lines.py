"""Load YAML keeping the line of every value, so descriptor errors can say where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from generator.errors import GeneratorError
from generator.json_input import MAX_DEPTH, MAX_INT_DIGITS

#: How many values aliases (``*name``, also in ``<<: *name``) may add to a document in
#: total. Sharing a config block between topics stays far below it; an "alias bomb" (a
#: few hundred bytes that expand to billions of values) is refused before it expands.
MAX_ALIAS_VALUES = 10_000


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

    Raises :class:`GeneratorError` for YAML syntax errors, non-string keys and duplicate
    keys, nesting deeper than :data:`~generator.json_input.MAX_DEPTH`, aliases that expand
    beyond :data:`MAX_ALIAS_VALUES` values, and scalars Python cannot hold.
    """
    if _FAST_LOADER is not None:
        try:
            return _load(text, file, _FAST_LOADER)
        except yaml.YAMLError:
            pass  # reported below by the pure-Python parser, whose messages users see
    try:
        return _load(text, file, yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text, file) from None


# libyaml parses a large descriptor about ten times faster than PyYAML's pure-Python parser;
# both build the same nodes with the same marks, and the same SafeConstructor turns them into
# values. Syntax errors are re-parsed in pure Python so that their text never depends on
# whether libyaml is installed.
_FAST_LOADER: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


def _load(text: str, file: str, loader_class: type[yaml.SafeLoader]) -> Node | None:
    _check_shape(text, file, loader_class)
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        return _convert(loader, root, file)
    finally:
        loader.dispose()


def _syntax_error(exc: yaml.YAMLError, text: str, file: str) -> GeneratorError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return GeneratorError.single(file, line, f"invalid YAML: {exc.problem or exc}")
    if isinstance(exc, yaml.reader.ReaderError):
        # Control characters (NUL, BEL, ...) are not allowed anywhere in YAML.
        line = text.count("\n", 0, exc.position) + 1
        return GeneratorError.single(
            file,
            line,
            f"invalid YAML: character {exc.character!r} is not allowed in YAML text "
            "(write it as an escape in a double-quoted string)",
        )
    return GeneratorError.single(file, 1, f"invalid YAML: {exc}")


def _check_shape(text: str, file: str, loader_class: type[yaml.SafeLoader]) -> None:
    """Refuse deep nesting and alias bombs from the event stream, before composing.

    PyYAML's parser keeps its own stack, so this pass is safe on any input; composing and
    converting are recursive, and converting expands every alias.
    """
    sizes: dict[str, int] = {}  # anchor -> number of values it stands for, aliases expanded
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, values so far) per collection
    expanded = 0
    for event in yaml.parse(text, Loader=loader_class):
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.CollectionStartEvent):
            open_nodes.append((event.anchor, 1))
            if len(open_nodes) > MAX_DEPTH:
                raise GeneratorError.single(
                    file,
                    line,
                    f"nested deeper than {MAX_DEPTH} levels, the limit gen-topics sets for its "
                    "input; a topic descriptor needs only a few",
                )
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = size
        elif isinstance(event, yaml.AliasEvent):
            size = sizes.get(event.anchor or "", 1)
            expanded += size
            if expanded > MAX_ALIAS_VALUES:
                raise GeneratorError.single(
                    file,
                    line,
                    f"YAML aliases expand to more than {MAX_ALIAS_VALUES} values (*{event.anchor} "
                    f"alone stands for {size}); refusing to expand them. Repeat fewer values "
                    "through aliases",
                )
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        else:
            continue
        if open_nodes:
            anchor, count = open_nodes[-1]
            open_nodes[-1] = (anchor, count + size)


def _construct(loader: yaml.SafeLoader, node: yaml.Node, file: str) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError) as exc:
        # PyYAML's constructors raise these for values Python cannot hold: an integer
        # longer than Python reads, a date like 2024-02-30.
        line = node.start_mark.line + 1
        raw = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
        if node.tag.endswith(":int") and len(raw) > MAX_INT_DIGITS:
            message = (
                f"integer of {len(raw)} characters is too long: Python reads at most "
                f"{MAX_INT_DIGITS} digits"
            )
        else:
            shown = raw if len(raw) <= 60 else raw[:57] + "..."
            message = f"invalid {node.tag.rsplit(':', 1)[-1]} value {shown!r}: {exc}"
        raise GeneratorError.single(file, line, message) from None


def _convert(loader: yaml.SafeLoader, node: yaml.Node, file: str) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node, file)
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
    return Node(_construct(loader, node, file), line)
