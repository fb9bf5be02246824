"""Find the line of a JSON path in a JSON text, to report schema errors as ``file:line``.

Files are parsed with the fast C parser; only when an error must be reported is the text
parsed again with a position-tracking decoder.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from json.decoder import JSONArray, JSONObject  # type: ignore[attr-defined]
from json.scanner import py_make_scanner  # type: ignore[attr-defined]
from typing import Any

_PATH_PART = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")


class _Located:
    """A parsed JSON value with the offset where it starts."""

    __slots__ = ("children", "offset")

    def __init__(self, offset: int, children: Any) -> None:
        self.offset = offset
        self.children = children


class _LocatingDecoder(json.JSONDecoder):
    def __init__(self) -> None:
        super().__init__()

        def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
            start = s_and_end[1] - 1
            obj, end = JSONObject(s_and_end, *args)
            return _Located(start, dict(obj)), end

        def parse_array(s_and_end: tuple[str, int], scan_once: Any) -> tuple[Any, int]:
            start = s_and_end[1] - 1
            arr, end = JSONArray(s_and_end, scan_once)
            return _Located(start, arr), end

        self.parse_object = parse_object
        self.parse_array = parse_array
        self.memo: dict[Any, Any] = {}
        self.scan_once = py_make_scanner(self)


def line_of(text: str, json_path: str) -> int:
    """The 1-based line where the value at ``json_path`` (``$.fields[2].type``) starts.

    Falls back to the deepest resolvable parent, and to line 1 when the text is not JSON.
    """
    parts: list[str | int] = [
        m.group(1) if m.group(1) is not None else int(m.group(2))
        for m in _PATH_PART.finditer(json_path)
    ]
    return line_of_parts(text, parts)


def line_of_parts(text: str, parts: Sequence[str | int]) -> int:
    """The 1-based line where the value at ``parts`` (object keys and array indexes) starts.

    Falls back to the deepest resolvable parent, and to line 1 when the text is not JSON.
    """
    try:
        root = _LocatingDecoder().decode(text)
    except (ValueError, RecursionError):
        return 1
    node: Any = root
    offset = node.offset if isinstance(node, _Located) else 0
    for part in parts:
        if not isinstance(node, _Located):
            break
        children = node.children
        if isinstance(part, str) and isinstance(children, dict) and part in children:
            if not isinstance(children[part], _Located):
                # A scalar has no recorded offset: find its key inside the parent object.
                key = re.escape(json.dumps(part)[1:-1])
                found = re.compile(rf'"{key}"\s*:').search(text, node.offset)
                offset = found.start() if found else offset
            node = children[part]
        elif isinstance(part, int) and isinstance(children, list) and part < len(children):
            node = children[part]
        else:
            break
        if isinstance(node, _Located):
            offset = node.offset
    starts = [m.end() for m in re.finditer("\n", text)]
    return bisect.bisect_right(starts, offset) + 1
