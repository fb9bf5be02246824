"""Where each Avro named type lives in the output package, and under which class name."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from generator.avro.model import AvroRegistry, NamedType
from generator.naming import LOCAL_NAMES, RESERVED_MODULE_NAMES, mangle, module_parts


@dataclass(frozen=True)
class PyName:
    """A generated class: its module (parts relative to the output package) and name."""

    module: tuple[str, ...]
    name: str


def assign_names(registry: AvroRegistry) -> dict[str, PyName]:
    """A unique class name per named type, per namespace module, deterministic.

    A class may not take the name of a sub-package of its module, nor a name the module
    itself uses, nor a builtin or keyword.
    """
    by_module: dict[tuple[str, ...], list[NamedType]] = defaultdict(list)
    for fullname in sorted(registry.types):
        nt = registry.types[fullname]
        by_module[module_parts(nt.namespace)].append(nt)
    children: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for parts in list(by_module):
        for i in range(1, len(parts)):
            children[parts[:i]].add(parts[i])
    names: dict[str, PyName] = {}
    for parts, types in sorted(by_module.items()):
        taken = set(children[parts]) | set(RESERVED_MODULE_NAMES) | set(LOCAL_NAMES)
        for nt in types:
            name = mangle(nt.name, taken)
            taken.add(name)
            names[nt.fullname] = PyName(parts, name)
    return names


def namespace_modules(registry: AvroRegistry) -> dict[tuple[str, ...], list[NamedType]]:
    """Every module path that must exist (with its parents), with the types it holds."""
    modules: dict[tuple[str, ...], list[NamedType]] = defaultdict(list)
    for fullname in sorted(registry.types):
        nt = registry.types[fullname]
        parts = module_parts(nt.namespace)
        modules[parts].append(nt)
        for i in range(1, len(parts)):
            modules.setdefault(parts[:i], [])
    return dict(sorted(modules.items()))
