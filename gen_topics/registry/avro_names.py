"""Avro naming rules, in one place for the whole project.

The generator's loader, the compatibility checker, subject naming and reference
inlining all need the primitive names and the rules that turn a name as written
into a full name. ``gen_topics`` may not import ``generator``, so they live here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NAMED_KINDS", "PRIMITIVES", "defined_namespace", "full_name", "root_full_name"]

PRIMITIVES: frozenset[str] = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)
NAMED_KINDS: frozenset[str] = frozenset({"record", "error", "enum", "fixed"})


def full_name(name: str, namespace: str | None) -> str:
    """``name`` as written inside ``namespace``: a dotted name is already full."""
    return name if "." in name or not namespace else f"{namespace}.{name}"


def defined_namespace(name: str, namespace: Any, enclosing: str | None) -> str | None:
    """The namespace a named type's definition sets for itself and what it contains.

    A dotted ``name`` carries its own; else the ``namespace`` attribute (when a
    string); else the enclosing one. The empty namespace is None.
    """
    if "." in name:
        return name.rsplit(".", 1)[0]
    own = namespace if isinstance(namespace, str) else enclosing
    return own or None


def root_full_name(schema: Any) -> str | None:
    """The full name of a parsed schema's root type, or None when it is not named."""
    if isinstance(schema, dict) and isinstance(schema.get("name"), str):
        name: str = schema["name"]
        return full_name(name, defined_namespace(name, schema.get("namespace"), None))
    return None
