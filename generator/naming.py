"""Python names for Avro names, topics and modules: predictable, collision-free mangling.

Rules (documented in docs/codegen.md):
- a name that is a Python keyword, or that would shadow a builtin or a name the generated
  module itself uses, gets a trailing ``_`` (repeated until unique);
- a namespace ``a.b.c`` becomes the package ``avro/a/b/c/`` of the output package (its
  types in ``__init__.py``), each part mangled like a name;
- a topic ``orders.v1`` becomes the module ``orders_v1`` and the class ``OrdersV1Topic``.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Container

AVRO_PACKAGE = "avro"
SUPPORT_MODULE = "_avro_support"
# Names that generated modules and classes use themselves.
RESERVED_MODULE_NAMES = frozenset(
    {"annotations", "dataclasses", "enum", "Any", "ClassVar", "Self", "Final", "TypeAlias"}
)
# Local variables of generated methods and helpers: a class of the same name would be
# shadowed inside them.
LOCAL_NAMES = frozenset(
    {"d", "obj", "cls", "self", "v", "name", "value", "KeyType", "ValueType"}
    | {f"{prefix}{i}" for prefix in ("v", "k") for i in range(10)}
)
RESERVED_FIELD_NAMES = frozenset(
    {"self", "cls", "to_avro", "from_avro", "avro_name", "dataclasses", "_dt", "_decimal", "_uuid"}
)
_BUILTINS = frozenset(dir(builtins))


def is_reserved(name: str) -> bool:
    """True for keywords (also soft ones used as names, like ``None``) and builtins."""
    return keyword.iskeyword(name) or name in _BUILTINS


# Builtins that generated class bodies use in annotations: a field may not shadow them.
ANNOTATION_BUILTINS = frozenset({"str", "int", "float", "bool", "bytes", "list", "dict"})


def mangle(name: str, taken: Container[str] = frozenset(), *, builtins_too: bool = True) -> str:
    """``name`` with trailing ``_`` added while it is reserved or in ``taken``.

    A leading ``__`` (which Python would name-mangle in a class body) gets an ``x`` prefix.
    """
    out = name

    def clashes(n: str) -> bool:
        reserved = is_reserved(n) if builtins_too else keyword.iskeyword(n)
        return reserved or n in taken or n.startswith("__")

    while clashes(out):
        if out.startswith("__"):
            out = "x" + out
            continue
        out += "_"
    return out


def module_parts(namespace: str) -> tuple[str, ...]:
    """The module path (relative to the output package) holding ``namespace``'s types."""
    parts = [mangle(p) for p in namespace.split(".")] if namespace else []
    return (AVRO_PACKAGE, *parts)


def module_alias(parts: tuple[str, ...]) -> str:
    """The local alias a generated module imports another generated module under."""
    if parts == (SUPPORT_MODULE,):
        return "_support"
    return "_" + "_".join(parts).lstrip("_")


def enum_member(symbol: str, taken: set[str]) -> str:
    """The Enum member name of an Avro enum symbol."""
    name = symbol
    if re.fullmatch(r"_.*_", name) or name in ("name", "value", "mro"):
        name = name + "_x"
    return mangle(name, taken, builtins_too=False)


def enum_lookup(class_name: str) -> str:
    """The module-level dict mapping an enum's Avro symbols to its members."""
    return f"{class_name.upper()}_BY_SYMBOL"


def topic_module(topic: str) -> str:
    """Module name for a Kafka topic name."""
    name = re.sub(r"[^0-9A-Za-z_]", "_", topic).lower()
    if not name or name[0].isdigit():
        name = "t_" + name
    return mangle(name)


def topic_class(topic: str) -> str:
    """Default class name for a Kafka topic name: ``payments.v1`` -> ``PaymentsV1Topic``."""
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", topic) if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts) + "Topic"
    if name[0].isdigit():
        name = "T" + name
    return name


def relative_import(current_package: tuple[str, ...], target: tuple[str, ...]) -> str:
    """``from <dots><path> import <name>`` to import module ``target`` from a module in
    ``current_package`` (both relative to the output package root)."""
    parent = target[:-1]
    common = 0
    while (
        common < len(current_package)
        and common < len(parent)
        and current_package[common] == parent[common]
    ):
        common += 1
    dots = "." * (1 + len(current_package) - common)
    rest = ".".join(parent[common:])
    return f"from {dots}{rest} import {target[-1]}"
