"""Render the Avro named types of the model: one module per namespace, records, enums, fixed."""

from __future__ import annotations

import re
from typing import Any

import jinja2

from generator.avro.codec_code import CodecModule, CodecRoot, topic_root
from generator.avro.defaults import convert_default
from generator.avro.model import AvroRegistry, AvroType, NamedType, Primitive
from generator.avro.type_names import PyName
from generator.avro.typing_map import TypeRenderer
from generator.formatting import LINE_LENGTH
from generator.model import AvroPayload, CompileModel
from generator.naming import (
    ANNOTATION_BUILTINS,
    RESERVED_FIELD_NAMES,
    RESERVED_MODULE_NAMES,
    enum_lookup,
    enum_member,
    mangle,
    module_alias,
    relative_import,
)
from generator.source_text import docstring, import_block
from generator.templating import module_header

STDLIB_IMPORTS = {
    "dt": "import datetime as _dt",
    "decimal": "import decimal as _decimal",
    "uuid": "import uuid as _uuid",
}


class MemberNames:
    """Python names of record fields and enum members, by type full name and Avro name."""

    def __init__(self, registry: AvroRegistry, python_names: dict[str, PyName]) -> None:
        self.members: dict[str, dict[str, str]] = {}
        module_classes: dict[tuple[str, ...], set[str]] = {}
        for py in python_names.values():
            module_classes.setdefault(py.module, set()).add(py.name)
        reserved = ANNOTATION_BUILTINS | RESERVED_FIELD_NAMES | RESERVED_MODULE_NAMES
        # Per module, not per record: a namespace may hold thousands of classes.
        module_taken = {module: reserved | classes for module, classes in module_classes.items()}
        for fullname, nt in registry.types.items():
            names: dict[str, str] = {}
            if nt.kind == "enum":
                taken: set[str] = set()
                for symbol in nt.symbols:
                    names[symbol] = enum_member(symbol, taken)
                    taken.add(names[symbol])
            elif nt.kind == "record":
                fields = _Taken(module_taken[python_names[fullname].module])
                for f in nt.fields:
                    names[f.name] = mangle(f.name, fields, builtins_too=False)
                    fields.own.add(names[f.name])
            self.members[fullname] = names


class _Taken:
    """The names a record's field may not take: the module's, then its earlier fields'."""

    __slots__ = ("fixed", "own")

    def __init__(self, fixed: frozenset[str] | set[str]) -> None:
        self.fixed = fixed
        self.own: set[str] = set()

    def __contains__(self, name: object) -> bool:
        return name in self.own or name in self.fixed


def namespace_path(parts: tuple[str, ...]) -> str:
    """The relative path of the module of namespace ``parts``."""
    return "/".join(parts) + "/__init__.py"


def codec_file(model: CompileModel, names: MemberNames | None = None) -> str:
    """The content of the package's specialised codec module (``_avro_codec.py``)."""
    members = MemberNames(model.registry, model.names) if names is None else names
    codec, roots = codec_builder(model, members)
    return codec.source(roots)


def codec_builder(
    model: CompileModel, names: MemberNames, recursive: set[str] | None = None
) -> tuple[CodecModule, list[CodecRoot]]:
    """The builder of the codec module and the topic sides it encodes and decodes (for
    rendering it in parts: :meth:`CodecModule.parts`); ``recursive``: the registry's
    :func:`~generator.avro.codec_code.recursive_records`, when known already."""
    roots = [
        topic_root(model.registry, topic.module, side, payload.type)
        for topic in model.topics
        for side, payload in (("key", topic.key), ("value", topic.value))
        if isinstance(payload, AvroPayload)
    ]
    return CodecModule(model.registry, model.names, names.members, recursive), roots


def relative_imports(r: TypeRenderer, package: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (relative_import(package, target), module_alias(target))
        for target in sorted(r.modules)
        if target != r.module
    ]


def namespace_file(
    env: jinja2.Environment,
    model: CompileModel,
    names: MemberNames,
    parts: tuple[str, ...],
    types: list[NamedType],
) -> str:
    """The content of the module of namespace ``parts``, which holds ``types``."""
    r = TypeRenderer(model.registry, model.names, parts)
    enums, fixeds, records = [], [], []
    typing_names: set[str] = set()
    uses_dataclasses = False
    for nt in types:
        py = model.names[nt.fullname].name
        avro_name = f'"{nt.fullname}"'
        if nt.kind == "enum":
            doc = nt.doc or f"Avro enum ``{nt.fullname}``."
            if nt.enum_default:
                doc += f"\n\nReaders map unknown symbols to ``{nt.enum_default}``."
            enums.append(
                {
                    "name": py,
                    "docstring": docstring(doc, "    ", fallback=""),
                    "members": [(names.members[nt.fullname][s], f'"{s}"') for s in nt.symbols],
                    "lookup": enum_lookup(py),
                }
            )
        elif nt.kind == "fixed":
            if nt.logical is not None:
                continue  # decimal and duration fixed types map to Decimal / Duration
            typing_names |= {"ClassVar", "Self"}
            fixeds.append(
                {
                    "name": py,
                    "docstring": docstring(
                        nt.doc, "    ", fallback=f"Avro fixed ``{nt.fullname}`` ({nt.size} bytes)."
                    ),
                    "avro_name": avro_name,
                    "avro_name_text": nt.fullname,
                    "size": nt.size,
                }
            )
        else:
            typing_names |= {"Any", "ClassVar", "Self"}
            uses_dataclasses = True
            records.append(_record(r, model, names, nt, py, avro_name))
    typing_names |= r.typing
    stdlib = {STDLIB_IMPORTS[m] for m in r.stdlib}
    if enums:
        stdlib.add("import enum")
    if uses_dataclasses:
        stdlib.add("import dataclasses")
    if typing_names:
        stdlib.add(f"from typing import {', '.join(sorted(typing_names))}")
    std_lines, rel_lines = import_block(stdlib, relative_imports(r, parts))
    ns = ".".join(parts[1:]) or "(null namespace)"
    kinds = ", ".join(f"``{model.names[t.fullname].name}``" for t in types)
    doc = f"Avro types of namespace ``{ns}``" + (f": {kinds}." if kinds else ".")
    return env.get_template("namespace_module.py.j2").render(
        header_lines=module_header(sorted({t.file for t in types})),
        docstring=docstring(doc, "", fallback="")[3:-3],
        has_code=bool(enums or fixeds or records),
        stdlib_imports=std_lines,
        relative_imports=rel_lines,
        enums=enums,
        fixeds=fixeds,
        records=records,
        helpers=r.helpers,
    )


_NULLABLE = re.compile(r"None if (\S+) is None else (.+)")


def _wrapped(expr: str, indent: str, before: int, after: int) -> str:
    """``expr`` (after ``before`` characters of its line, followed by ``after`` more) split
    over lines as ruff format splits a too long ``None if x is None else y``; any other
    expression is left as it is (a long line goes through ruff: see generator.formatting)."""
    if len(indent) + before + len(expr) + after <= LINE_LENGTH:
        return expr
    match = _NULLABLE.fullmatch(_without_outer_parentheses(expr))
    if match is None:
        return expr
    inner = f"None if {match[1]} is None else {match[2]}"
    body = indent + "    "
    if len(body) + len(inner) <= LINE_LENGTH:
        return f"(\n{body}{inner}\n{indent})"
    lines = ["None", f"if {match[1]} is None", f"else {match[2]}"]
    if any(len(body) + len(line) > LINE_LENGTH for line in lines):
        return expr
    return "(\n" + "".join(f"{body}{line}\n" for line in lines) + f"{indent})"


def _without_outer_parentheses(expr: str) -> str:
    """``expr`` without parentheses around all of it, which ruff format drops from the
    right-hand side of an assignment."""
    if not (expr.startswith("(") and expr.endswith(")")):
        return expr
    depth = 0
    last = len(expr) - 1
    # Token by token (a string literal is one), not character by character: tens of
    # thousands of fields at scale.
    for token in _PARENTHESES.finditer(expr):
        if token[0] == "(":
            depth += 1
        elif token[0] == ")":
            depth -= 1
            if depth == 0 and token.start() != last:
                return expr  # the first parenthesis closes before the end: (a) + (b)
    return expr[1:-1]


# A parenthesis outside string literals, or a whole string literal (skipped).
_PARENTHESES = re.compile(r"""[()]|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'""")


def _field_doc(t: AvroType, doc: str | None) -> str | None:
    detail = None
    if isinstance(t, Primitive) and t.logical == "decimal":
        detail = f"Avro decimal(precision={t.precision}, scale={t.scale})."
    if doc and detail:
        return f"{doc} ({detail})"
    return doc or detail


def _record(
    r: TypeRenderer, model: CompileModel, names: MemberNames, nt: NamedType, py: str, avro_name: str
) -> dict[str, Any]:
    fields, encode_items, decode_items, attrs = [], [], [], []
    field_names = names.members[nt.fullname]
    for f in nt.fields:
        name = field_names[f.name]
        default = None
        if f.has_default:
            dv = convert_default(f.type, f.default, model.registry)
            factory = r.needs_factory(dv)
            literal = r.literal(dv, names.members, field=not factory)
            if factory:
                # Always a lambda: the bare `list` / `dict` factories would type the field as
                # list[Unknown] under pyright strict; the lambda takes the field's type.
                default = f"dataclasses.field(default_factory=lambda: {literal})"
            else:
                default = literal
        fields.append({"name": name, "annotation": r.annotation(f.type), "default": default})
        encoded = r.encode(f.type, f"self.{name}") or f"self.{name}"
        key = f'"{f.name}"'
        # As ruff format writes them: `            "name": <expr>,` and `        obj.x = <expr>`.
        encode_items.append((key, _wrapped(encoded, " " * 12, len(key) + 2, 1)))
        decoded = _without_outer_parentheses(r.decode(f.type, f'd["{f.name}"]') or f'd["{f.name}"]')
        decode_items.append((name, _wrapped(decoded, " " * 8, len(f"obj.{name} = "), 0)))
        fdoc = _field_doc(f.type, f.doc)
        if fdoc:
            attrs.append((name, fdoc))
    doc = nt.doc or f"Avro record ``{nt.fullname}``."
    if nt.aliases:
        doc += "\n\nAliases: " + ", ".join(f"``{a}``" for a in nt.aliases) + "."
    return {
        "name": py,
        "docstring": docstring(doc, "    ", fallback="", attributes=attrs),
        "avro_name": avro_name,
        "fields": fields,
        "encode_items": encode_items,
        "decode_items": decode_items,
    }
