"""Where an Avro compat finding is in the new schema's ``.avsc`` files: file and line.

A topic's registered schema text is assembled from several files (a union of records, a
record using named types defined elsewhere), so a path in that text says little to the
person who edits the files. A finding names the record (or enum, fixed) and field it is
in; this finds that definition in the file that defines it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.compat.findings import Finding
from generator.json_lines import line_of

__all__ = ["definition_path", "finding_location"]

_NAMED = ("record", "error", "enum", "fixed")


def definition_path(document: Any, fullname: str) -> str | None:
    """The JSON path (``$``, ``$.fields[2].type``, ``$[1]`` ...) where ``document`` (a parsed
    ``.avsc``) defines the named type ``fullname``; None when it does not define it."""

    def walk(node: Any, namespace: str, path: str) -> str | None:
        if isinstance(node, list):
            for i, branch in enumerate(node):
                found = walk(branch, namespace, f"{path}[{i}]")
                if found:
                    return found
            return None
        if not isinstance(node, dict):
            return None
        kind = node.get("type")
        if kind in _NAMED and isinstance(node.get("name"), str):
            name: str = node["name"]
            if "." in name:
                own, full = name.rpartition(".")[0], name
            else:
                raw = node.get("namespace", namespace)
                own = raw if isinstance(raw, str) else namespace
                full = f"{own}.{name}" if own else name
            if full == fullname:
                return path
            fields = node.get("fields") if kind in ("record", "error") else None
            for i, item in enumerate(fields if isinstance(fields, list) else []):
                if isinstance(item, dict):
                    found = walk(item.get("type"), own, f"{path}.fields[{i}].type")
                    if found:
                        return found
            return None
        if kind == "array":
            return walk(node.get("items"), namespace, f"{path}.items")
        if kind == "map":
            return walk(node.get("values"), namespace, f"{path}.values")
        if isinstance(kind, (dict, list)):
            return walk(kind, namespace, f"{path}.type")
        return None

    return walk(document, "", "$")


def _at(document: Any, path: str) -> Any:
    node = document
    for part in path.removeprefix("$").replace("[", ".").replace("]", "").split("."):
        if part:
            node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def finding_location(finding: Finding, files: dict[str, str]) -> tuple[str, int] | None:
    """``(file, line)`` of the field (its type, or for a missing default the field itself) or
    the named type a finding is in; ``files`` maps full names to the files that may define
    them. None when the finding names no type, or the new files do not define it."""
    if not finding.record or finding.record not in files:
        return None
    file = files[finding.record]
    try:
        text = Path(file).read_text(encoding="utf-8")
        document = json.loads(text)
    except (OSError, ValueError):
        return None
    path = definition_path(document, finding.record)
    if path is None:
        return None
    if finding.field is not None:
        fields = _at(document, path).get("fields")
        names = [f.get("name") if isinstance(f, dict) else None for f in fields or []]
        if finding.field in names:
            path = f"{path}.fields[{names.index(finding.field)}]"
            if finding.rule != "READER_FIELD_MISSING_DEFAULT_VALUE":
                path += ".type"
    return file, line_of(text, path)
