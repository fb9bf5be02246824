"""The package's specialised Avro codec: straight-line encode/decode code per type.

One module, ``_avro_codec.py``, holds for every record type (and every Avro topic key or
value) an encoder writing a typed value into a ``bytearray`` and a decoder reading one from
``bytes``, with varints, lengths, unions and logical types spelled out per field: no schema
is interpreted at run time. The module is plain, typed Python that mypyc can compile (see
:mod:`generator.avro.native`); the compiled copy, when built and current, replaces the
functions at import time, else the Python ones run.

The bytes are fastavro's (fastavro stays the reference in the round-trip tests). Union
branches follow the Python type: named types by class, the others as fastavro's validation
would pick them (the first branch whose type accepts the value; ``double`` over ``float``).

Rules the emitted code keeps, because mypyc compiles it:
- a ``range(n)`` bound is never a variable the loop body assigns (mypyc re-reads it);
- every local keeps one type (each value gets its own numbered name).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

from generator.avro.model import (
    ArrayType,
    AvroRegistry,
    AvroType,
    MapType,
    NamedType,
    Primitive,
    Ref,
    UnionType,
)
from generator.avro.type_names import PyName
from generator.avro.typing_map import TypeRenderer
from generator.formatting import LINE_LENGTH, fits
from generator.naming import module_alias, relative_import
from generator.source_text import header_lines, import_block, py_bytes

#: The module's name inside the output package.
CODEC_MODULE = "_avro_codec"


@dataclass(frozen=True)
class Sink:
    """Where a value read goes: assigned to ``target``, or put in ``template``'s ``{}``."""

    target: str | None = None
    template: str = "{}"

    def __call__(self, expr: str) -> str:
        if self.target is not None:
            return f"{self.target} = {expr}"
        return self.template.replace("{}", expr, 1)


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
# A small nested record is written inline (no call), up to this many values and levels:
# beyond, inlining multiplies the code (and mypyc's C) more than it saves.
_INLINE_LIMIT = 8
_INLINE_DEPTH = 2
# Arrays, maps and unions nest their code (a loop or a branch per level); below this many
# indentation levels the rest of a type goes to a function of its own. Python refuses
# source nested deeper than 100 indentation levels or 20 loops in one function, and any
# schema the loader accepts must give importable code.
_NEST_LIMIT = 10
_DIGEST_PLACEHOLDER = "<digest>"
_DOUBLE_RUN = {"double": "d", "float": "f"}


@dataclass(frozen=True)
class CodecRoot:
    """An encoder/decoder pair the module exports: for a record type or a topic side."""

    key: str  # record full name, or "<topic module>.<key|value>"
    type: AvroType
    encode: str
    decode: str


@dataclass
class _Function:
    """Locals of the function being emitted: numbered so that each keeps one type."""

    counter: int = 0

    def var(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"


@dataclass
class _Module:
    helpers: dict[str, list[str]] = field(default_factory=dict)  # name -> definition lines
    constants: dict[str, str] = field(default_factory=dict)  # name -> expression
    stdlib: set[str] = field(default_factory=set)
    uses_cast: bool = False


def function_names(registry: AvroRegistry) -> dict[str, str]:
    """A unique identifier per record type (sorted, deterministic): ``a.b.C`` -> ``a_b_C``."""
    cached = _NAMES_CACHE.get("last")
    if cached is not None and cached[0]() is registry and cached[1] == len(registry.types):
        return cached[2]
    out: dict[str, str] = {}
    taken: set[str] = set()
    for fullname in sorted(registry.types):
        if registry.types[fullname].kind != "record":
            continue
        ident = re.sub(r"\W", "_", fullname)
        while ident in taken:
            ident += "_"
        taken.add(ident)
        out[fullname] = ident
    # Every topic asks for the names of the same registry: keep the last answer, but not
    # the registry itself, or a program that calls the compiler (a test run, a build tool)
    # holds the whole model until its next compile and tears it down at exit.
    _NAMES_CACHE["last"] = (weakref.ref(registry), len(registry.types), out)
    return out


_NAMES_CACHE: dict[str, tuple[weakref.ref[AvroRegistry], int, dict[str, str]]] = {}


def topic_root(registry: AvroRegistry, module: str, side: str, t: AvroType) -> CodecRoot:
    """The encoder/decoder pair of a topic's Avro key or value (``side``: key|value)."""
    if isinstance(t, Ref) and registry.named(t).kind == "record":
        ident = function_names(registry)[t.fullname]
        return CodecRoot(t.fullname, t, f"encode_{ident}", f"decode_{ident}")
    return CodecRoot(f"{module}.{side}", t, f"encode_{module}_{side}", f"decode_{module}_{side}")


#: One piece of the module: a record type (full name, whether it gets a plan-following
#: reader) or a topic side's encoder/decoder pair.
CodeUnit = tuple[str, bool] | CodecRoot


@dataclass
class CodePart:
    """The functions of some :data:`CodeUnit`s, and the helpers, constants and imports
    they use (see :meth:`CodecModule.render_part`)."""

    #: The functions, each after two blank lines: one string crosses a pipe fastest.
    text: str
    helpers: dict[str, list[str]]
    constants: dict[str, str]
    uses_cast: bool
    modules: set[tuple[str, ...]]
    typing: set[str]
    base: set[str]  # base helpers the bodies name (see _base_names_in)
    imports: set[str]  # what decides the imports, in the bodies (see _imports_in)
    fits: bool  # no line of the bodies is too long (see generator.formatting.fits)


class CodecModule:
    """Builds the source of ``_avro_codec.py`` for a set of named types and topic sides."""

    def __init__(
        self,
        registry: AvroRegistry,
        names: dict[str, PyName],
        members: dict[str, dict[str, str]],
        recursive: set[str] | None = None,
    ) -> None:
        self.registry = registry
        self.members = members
        self.r = TypeRenderer(registry, names, (CODEC_MODULE,))
        self.idents = function_names(registry)
        self.m = _Module()
        self._recursive = recursive_records(registry) if recursive is None else recursive
        self._sizes: dict[str, int] = {}

    # -- the module ------------------------------------------------------------------

    def source(self, topic_roots: list[CodecRoot]) -> str:
        """The module text: helpers, a writer and a reader per record type, and an
        encoder/decoder pair per topic key or value."""
        parts = [self.render_part(p) for p in self.parts(topic_roots, 1)]
        return self.assemble(parts, self.render_tables(topic_roots))[0]

    def parts(self, topic_roots: list[CodecRoot], count: int) -> list[list[CodeUnit]]:
        """The module's functions in order, cut into ``count`` runs of about equal length
        for :meth:`render_part` (possibly in other processes) and :meth:`assemble`."""
        # Plan-following readers only for the records topics carry at their top: where
        # schemas usually evolve; a changed nested record is resolved in Python.
        planned = {fn for root in topic_roots for fn in self._top_records(root.type)}
        units: list[CodeUnit] = [(fullname, fullname in planned) for fullname in self.idents]
        seen: set[str] = set()
        # By name, not in the order topics were declared: the same module whatever order
        # the inputs are read in.
        for root in sorted(topic_roots, key=lambda r: r.encode):
            if root.key not in seen:
                seen.add(root.key)
                units.append(root)
        size = -(-len(units) // max(1, count)) or 1
        return [units[i : i + size] for i in range(0, len(units), size)] or [[]]

    def render_part(self, units: list[CodeUnit]) -> CodePart:
        """The functions of ``units``, with what they need from the module around them."""
        bodies: list[list[str]] = []
        for unit in units:
            if isinstance(unit, CodecRoot):
                bodies.append(self._encoder(unit))
                bodies.append(self._decoder(unit))
                continue
            fullname, planned = unit
            bodies.append(self._record_writer(fullname))
            bodies.append(self._record_reader(fullname))
            if planned:
                bodies.append(self._record_resolver(fullname))
        return self._part(bodies)

    def render_tables(self, topic_roots: list[CodecRoot]) -> CodePart:
        """The module's tables of classes, writers, readers and resolvers by full name."""
        planned = sorted({fn for root in topic_roots for fn in self._top_records(root.type)})
        classes = []
        for fullname in sorted(self.registry.types):
            nt = self.registry.types[fullname]
            if nt.logical == "decimal":
                continue  # read as decimal.Decimal
            cls = f"{self._support()}.Duration" if nt.logical == "duration" else None
            classes.append(f'    "{fullname}": {cls or self.r.class_ref(fullname)},')
        writers = [f'    "{fn}": _write_{ident},' for fn, ident in self.idents.items()]
        readers = [f'    "{fn}": _read_{ident},' for fn, ident in self.idents.items()]
        resolvers = [f'    "{fn}": _resolve_{self.idents[fn]},' for fn in planned]
        tables = [
            "#: The generated class of every named type, by Avro full name (for resolution).",
            *_table("CLASSES: Final[dict[str, type[Any]]]", classes),
            "#: Writer and reader of every record type, by Avro full name.",
            *_table("WRITERS: Final[dict[str, Callable[[bytearray, Any], None]]]", writers),
            *_table("READERS: Final[dict[str, Callable[[bytes, int], tuple[Any, int]]]]", readers),
            "#: Plan-following reader of every record type (see the _resolve_* functions).",
            *_table("RESOLVERS: Final[dict[str, Callable[..., tuple[Any, int]]]]", resolvers),
        ]
        return self._part([tables])

    def _part(self, bodies: list[list[str]]) -> CodePart:
        # Each function after two blank lines, as ruff format writes top-level blocks.
        joined = "".join(["\n\n\n" + "\n".join(body) for body in bodies])
        # Searched here, part by part, rather than in the assembled module: parts may be
        # rendered side by side. No name spans two lines, and most lines recur thousands of
        # times (the same field code in record after record): each is searched once.
        distinct = "\n".join(set(itertools.chain.from_iterable(bodies)))
        # An item of a body is one line or more: when none is too long, no line is.
        longest = max(map(len, itertools.chain.from_iterable(bodies)), default=0)
        return CodePart(
            joined,
            dict(self.m.helpers),
            dict(self.m.constants),
            self.m.uses_cast,
            set(self.r.modules),
            set(self.r.typing),
            _base_names_in(distinct),
            _imports_in(distinct),
            longest <= LINE_LENGTH or fits(joined),
        )

    def assemble(self, parts: list[CodePart], tables: CodePart) -> tuple[str, bool]:
        """The module text from the rendered :meth:`parts`, in their order, and the
        :meth:`render_tables`; and whether every line fits (known from the parts: the whole
        module, tens of megabytes at scale, is not searched again)."""
        base: set[str] = set()
        imports: set[str] = set()
        parts = [*parts, tables]
        for part in parts:
            base |= part.base
            imports |= part.imports
            # Helpers and constants are named by what they hold: the same name from two
            # parts is the same definition.
            self.m.helpers.update(part.helpers)
            self.m.constants.update(part.constants)
            self.m.uses_cast |= part.uses_cast
            self.r.modules |= part.modules
            self.r.typing |= part.typing
        helpers: list[str] = []
        for name in sorted(self.m.helpers):
            helpers += ["", "", *self.m.helpers[name]]
        base |= _base_names_in("\n".join(helpers))
        constants = self._constant_lines()
        # Two blank lines between top-level blocks, as ruff format writes them (``helpers``
        # starts with its own two).
        before = [*_used_base(base), *(["", "", *constants] if constants else []), *helpers]
        # What the parts did not search for standard modules: all but their texts.
        imports |= _imports_in("\n".join(before) + _NATIVE_SWAP)
        head = self._head(imports)
        pieces = [head, "\n".join(before)]
        pieces += [part.text for part in parts]  # the tables last
        pieces.append("\n" + _NATIVE_SWAP)
        if not before:  # the first function's (or the tables') blank lines follow the head
            first = next((i for i in range(2, len(pieces)) if pieces[i]), len(pieces) - 1)
            pieces[first] = pieces[first][1:]
        # The digest covers the whole text but its own value; hashed piece by piece, as
        # the module, tens of megabytes at scale, is cheaper to build once than to copy.
        hashed = hashlib.sha256()
        for piece in pieces:
            hashed.update(piece.encode("utf-8"))
        digest = hashed.hexdigest()[:32]
        pieces[0] = head.replace(_DIGEST_PLACEHOLDER, digest, 1)  # the head holds it
        frame = "\n".join([pieces[0], *before, _NATIVE_SWAP])
        fitting = all(part.fits for part in parts) and fits(frame)
        return "".join(pieces), fitting

    def _constant_lines(self) -> list[str]:
        return [f"{name}: Final = {self.m.constants[name]}" for name in sorted(self.m.constants)]

    def _head(self, used: set[str]) -> str:
        """The module's header and imports; ``used``: what :func:`_imports_in` found in it."""
        stdlib = {line for alias, line in _STDLIB.items() if f"{alias}." in used}
        stdlib.add("from collections.abc import Callable")
        names = ["Any", "Final"]
        if self.m.uses_cast or "cast" in self.r.typing:
            names.append("cast")
        if "TypeVar(" in used:
            names.append("TypeVar")
        stdlib.add(f"from typing import {', '.join(sorted(names))}")
        relative = [
            (relative_import((), target), _alias(target))
            for target in sorted(self.r.modules)
            if target != (CODEC_MODULE,)
        ]
        std_lines, rel_lines = import_block(stdlib, relative)
        lines = [f"# {line}" for line in header_lines([])]
        lines += [
            '# mypy: disable-error-code="no-any-return"',
            # Union values are checked at run time although the annotations promise their
            # type: a wrong value fails with an error instead of writing the wrong branch.
            "# pyright: reportUnnecessaryIsInstance=false",
            '"""Specialised Avro encoders and decoders of this package (generated).',
            "",
            "Each function writes or reads one type with its fields spelled out (fastavro's",
            "bytes). mypyc can compile this module into ``_avro_codec_native`` (see the",
            "gen-topics docs); when that compiled copy is present and built from this very",
            "text, its functions replace these at import time.",
            '"""',
            "",
            "from __future__ import annotations",
            "",
            *std_lines,
        ]
        if "_values." in used:
            lines += [
                "",
                "# isort: split",
                "# (gen_topics is first-party inside this repository and third-party elsewhere)",
                "from gen_topics import _avro_values as _values",
            ]
        if rel_lines:
            lines += ["", *rel_lines]
        lines += [
            "",
            "#: Digest of this module's code: a compiled copy is used only when it matches.",
            f'CODE_DIGEST: Final = "{_DIGEST_PLACEHOLDER}"',
        ]
        return "\n".join(lines) + "\n"

    # -- roots -----------------------------------------------------------------------

    def _encoder(self, root: CodecRoot) -> list[str]:
        fn = _Function()
        ann = self.r.annotation(root.type)
        # A `bool | int` parameter would reach mypyc-compiled code as an int (see below).
        param = "object" if self._bool_or_int(root.type) else ann
        lines = [*_signature(root.encode, [f"v: {param}"], "bytes"), "    out = bytearray()"]
        t = root.type
        if isinstance(t, Ref) and self.registry.named(t).kind == "record":
            lines.append(f"    _write_{self.idents[t.fullname]}(out, v)")
        else:
            lines += self.write(t, "v", 1, fn, 0)
        lines.append("    return bytes(out)")
        return lines

    def _decoder(self, root: CodecRoot) -> list[str]:
        fn = _Function()
        ann = self.r.annotation(root.type)
        lines = _signature(root.decode, ["data: bytes"], ann)
        t = root.type
        result = fn.var("x")
        if isinstance(t, Ref) and self.registry.named(t).kind == "record":
            lines.append(f"    {result}, pos = _read_{self.idents[t.fullname]}(data, 0)")
        else:
            lines.append("    pos: int = 0")
            if isinstance(t, UnionType):
                # Each branch returns: a local typed with the union would make mypyc store
                # a bool of `bool | int` as an int.
                lines += self.read(t, Sink(template="return _checked({}, pos, data)"), 1, fn, 0)
                return lines
            lines.append(f"    {result}: {ann}")
            lines += self.read(t, _assign(result), 1, fn, 0)
        lines += [
            "    if pos > len(data):",
            "        raise _truncated(pos, data)",
            f"    return {result}",
        ]
        return lines

    def _record_writer(self, fullname: str) -> list[str]:
        nt = self.registry.types[fullname]
        fn = _Function()
        ident = self.idents[fullname]
        body = self._record_fields_write(nt, "v", 1, fn, 0) or ["    return"]
        params = ["out: bytearray", f"v: {self.r.class_ref(fullname)}"]
        return [*_signature(f"_write_{ident}", params, "None"), *body]

    def _record_reader(self, fullname: str) -> list[str]:
        nt = self.registry.types[fullname]
        fn = _Function()
        ident = self.idents[fullname]
        cls = self.r.class_ref(fullname)
        return [
            *_signature(f"_read_{ident}", ["data: bytes", "pos: int"], f"tuple[{cls}, int]"),
            f"    o = object.__new__({cls})",
            *self._record_fields_read(nt, "o", 1, fn, 0),
            "    return o, pos",
        ]

    def _record_resolver(self, fullname: str) -> list[str]:
        """A reader following a plan: for data of another writer schema (resolution).

        ``plan`` holds one step per writer field: a reader field's index (same type: read
        here, compiled when the module is) or ``len(fields) + i`` for ``steps[i]``, a
        function the run-time resolver built (a changed type, or a field to skip), whose
        value goes to attribute ``names[i]`` unless that is empty. ``fill`` sets the reader
        fields the writer lacks.
        """
        nt = self.registry.types[fullname]
        fn = _Function()
        ident = self.idents[fullname]
        cls = self.r.class_ref(fullname)
        names = self.members[fullname]
        lines = [
            f"def _resolve_{ident}(",
            "    data: bytes,",
            "    pos: int,",
            "    plan: tuple[int, ...],",
            "    steps: tuple[Callable[[bytes, int], tuple[Any, int]], ...],",
            "    names: tuple[str, ...],",
            "    fill: tuple[tuple[str, Callable[[], Any]], ...],",
            f") -> tuple[{cls}, int]:",
            f"    o = object.__new__({cls})",
            "    for a in plan:",
        ]
        keyword = "if"
        for index, f in enumerate(nt.fields):
            lines.append(f"        {keyword} a == {index}:")
            # Nested records through their functions: this reader is for the rare case.
            body = self.read(f.type, _assign(f"o.{names[f.name]}"), 3, fn, _INLINE_DEPTH)
            lines += body or ["            pass"]
            keyword = "elif"
        lines += [
            f"        {keyword} True:" if keyword == "if" else "        else:",
            f"            step = a - {len(nt.fields)}",
            "            value, pos = steps[step](data, pos)",
            "            if names[step]:",
            "                setattr(o, names[step], value)",
            "    for name, make in fill:",
            "        setattr(o, name, make())",
            "    return o, pos",
        ]
        return lines

    def _min_size(self, t: AvroType, seen: frozenset[str] = frozenset()) -> int:
        """The fewest bytes a ``t`` takes (0 for null, records of nothing but nulls, ...)."""
        if isinstance(t, Primitive):
            return 0 if t.name == "null" else 1
        if isinstance(t, (ArrayType, MapType, UnionType)):
            return 1
        nt = self.registry.named(t)
        if nt.kind == "fixed":
            return nt.size
        if nt.kind == "enum" or nt.fullname in seen:
            return 1
        return sum(self._min_size(f.type, seen | {nt.fullname}) for f in nt.fields)

    def _top_records(self, t: AvroType) -> list[str]:
        """The record types of ``t`` itself or of its union branches."""
        branches = t.branches if isinstance(t, UnionType) else (t,)
        return [
            b.fullname
            for b in branches
            if isinstance(b, Ref) and self.registry.named(b).kind == "record"
        ]

    def _bool_or_int(self, t: AvroType) -> bool:
        """Whether ``t`` holds a union whose Python types are just bool and int."""
        if isinstance(t, ArrayType):
            return self._bool_or_int(t.items)
        if isinstance(t, MapType):
            return self._bool_or_int(t.values)
        if not isinstance(t, UnionType):
            return False
        kinds = {self.r.annotation(b) for b in t.branches}
        return kinds == {"bool", "int"} or any(self._bool_or_int(b) for b in t.branches)

    # -- sizes and inlining ------------------------------------------------------------

    def _size(self, fullname: str) -> int:
        if fullname not in self._sizes:
            self._sizes[fullname] = _INLINE_LIMIT + 1  # while computing: recursion guard
            nt = self.registry.types[fullname]
            self._sizes[fullname] = sum(self._type_size(f.type) for f in nt.fields)
        return self._sizes[fullname]

    def _type_size(self, t: AvroType) -> int:
        """Roughly the statements reading ``t`` takes, in units of one primitive."""
        if isinstance(t, Ref):
            nt = self.registry.named(t)
            return self._size(nt.fullname) if nt.kind == "record" else 1
        if isinstance(t, ArrayType):
            return 3 + self._type_size(t.items)
        if isinstance(t, MapType):
            return 4 + self._type_size(t.values)
        if isinstance(t, UnionType):
            return 1 + sum(self._type_size(b) for b in t.branches)
        return 1

    def _inline(self, fullname: str, depth: int) -> bool:
        return (
            fullname not in self._recursive
            and depth < _INLINE_DEPTH
            and self._size(fullname) <= _INLINE_LIMIT
        )

    # -- writing -----------------------------------------------------------------------

    def _record_fields_write(
        self, nt: NamedType, x: str, ind: int, fn: _Function, depth: int
    ) -> list[str]:
        names = self.members[nt.fullname]
        lines: list[str] = []
        fields = nt.fields
        i = 0
        while i < len(fields):
            # Runs of float/double fields are packed with one struct call.
            run = 0
            while i + run < len(fields) and _fixed_width(fields[i + run].type):
                run += 1
            if run >= 2:
                codes = "".join(_DOUBLE_RUN[_prim(f.type)] for f in fields[i : i + run])
                packer = self._struct(codes, "pack")
                args = ", ".join(f"{x}.{names[f.name]}" for f in fields[i : i + run])
                lines.append(f"{_pad(ind)}out += {packer}({args})")
                i += run
                continue
            f = fields[i]
            value = f"{x}.{names[f.name]}"
            if self._bool_or_int(f.type):
                # mypyc reads an attribute typed `bool | int` as an int (bool is an int
                # subclass), which would lose the branch: read it untyped.
                getter = f"_GET_{names[f.name]}"
                self.m.constants[getter] = f'_operator.attrgetter("{names[f.name]}")'
                value = f"{getter}({x})"
            lines += self.write(f.type, value, ind, fn, depth)
            i += 1
        return lines

    def write(self, t: AvroType, x: str, ind: int, fn: _Function, depth: int) -> list[str]:
        """Lines appending the encoding of expression ``x`` (evaluated once) to ``out``."""
        p = _pad(ind)
        if isinstance(t, Primitive):
            return self._write_primitive(t, x, ind, fn)
        if ind >= _NEST_LIMIT and isinstance(t, (ArrayType, MapType, UnionType)):
            return [f"{p}{self._part_writer(t)}(out, {x})"]
        if isinstance(t, Ref):
            nt = self.registry.named(t)
            if nt.kind == "record":
                if self._inline(nt.fullname, depth):
                    rv = fn.var("r")
                    return [
                        f"{p}{rv} = {x}",
                        *self._record_fields_write(nt, rv, ind, fn, depth + 1),
                    ]
                return [f"{p}_write_{self.idents[nt.fullname]}(out, {x})"]
            if nt.kind == "enum":
                table = self._enum_encoding(nt)
                return [f"{p}out += {table}[{x}]"]
            if nt.logical == "decimal":
                return [f"{p}out += _decimal_fixed({x}, {nt.precision}, {nt.scale}, {nt.size})"]
            if nt.logical == "duration":
                dv = fn.var("d")
                packer = self._struct("III", "pack")
                return [
                    f"{p}{dv} = {x}",
                    f"{p}out += {packer}({dv}.months, {dv}.days, {dv}.millis)",
                ]
            bv = fn.var("b")
            return [
                f"{p}{bv} = {x}",
                f"{p}if len({bv}) != {nt.size}:",
                f'{p}    raise _wrong_size("{nt.fullname}", {nt.size}, {bv})',
                f"{p}out += {bv}",
            ]
        if isinstance(t, ArrayType):
            av, iv = fn.var("a"), fn.var("i")
            return [
                f"{p}{av} = {x}",
                f"{p}if {av}:",
                *_varint_lines(f"len({av})", ind + 1, fn, positive=True),
                f"{p}    for {iv} in {av}:",
                *self.write(t.items, iv, ind + 2, fn, depth),
                f"{p}out.append(0)",
            ]
        if isinstance(t, MapType):
            mv, kv, iv = fn.var("m"), fn.var("k"), fn.var("i")
            return [
                f"{p}{mv} = {x}",
                f"{p}if {mv}:",
                *_varint_lines(f"len({mv})", ind + 1, fn, positive=True),
                f"{p}    for {kv}, {iv} in {mv}.items():",
                *self._write_primitive(Primitive("string"), kv, ind + 2, fn),
                *self.write(t.values, iv, ind + 2, fn, depth),
                f"{p}out.append(0)",
            ]
        return self._write_union(t, x, ind, fn, depth)

    def _write_primitive(self, t: Primitive, x: str, ind: int, fn: _Function) -> list[str]:
        p = _pad(ind)
        name, logical = t.name, t.logical
        if name == "null":
            return []
        if name == "boolean":
            return [f"{p}out.append(1 if {x} else 0)"]
        if name in ("float", "double"):
            return [f"{p}out += {self._struct(_DOUBLE_RUN[name], 'pack')}({x})"]
        if name == "string" and logical == "uuid":
            # str(uuid) is always 36 characters: the length prefix is the constant 72.
            return [f"{p}out.append(72)", f"{p}out += _uuid_str({x}).encode()"]
        if name == "string":
            return [f"{p}_write_str(out, {x})"]
        if name == "bytes" and logical == "decimal":
            return [f"{p}_write_bytes(out, _decimal_bytes({x}, {t.precision}, {t.scale}))"]
        if name == "bytes":
            return [f"{p}_write_bytes(out, {x})"]
        # int and long, with their logical types
        if logical is None:
            return _varint_lines(x, ind, fn)
        return [f"{p}_write_{logical.replace('-', '_')}(out, {x})"]

    def _write_union(self, t: UnionType, x: str, ind: int, fn: _Function, depth: int) -> list[str]:
        p = _pad(ind)
        uv = fn.var("u")
        lines = [f"{p}{uv}: object = {x}"]
        cases: list[tuple[str, int, AvroType]] = []  # (condition, branch index, type)
        for index, branch in enumerate(t.branches):
            if isinstance(branch, Ref):
                cases.append((f"isinstance({uv}, {self._branch_class(branch)})", index, branch))
        others = [(i, b) for i, b in enumerate(t.branches) if not isinstance(b, Ref)]
        ambiguous = _ambiguous_containers([b for _, b in others])
        for pos_, (index, branch) in enumerate(others):
            target_index, target = index, branch
            if isinstance(branch, Primitive) and branch.name == "float":
                # fastavro prefers a later "double" for a value a float branch accepts.
                later = [
                    (i, b)
                    for i, b in others[pos_ + 1 :]
                    if isinstance(b, Primitive) and b.name == "double"
                ]
                if later:
                    target_index, target = later[0]
            for cond, write_as in self._predicates(branch, uv, ambiguous):
                cases.append((cond, target_index, write_as if target is branch else target))
        keyword = "if"
        seen: set[str] = set()
        for cond, index, branch in cases:
            if cond in seen:
                continue  # an earlier branch takes every value this one would
            seen.add(cond)
            lines.append(f"{p}{keyword} {cond}:")
            lines += _varint_lines(str(index), ind + 1, fn, constant=index)
            body = self._write_narrowed(branch, uv, ind + 1, fn, depth)
            lines += body
            keyword = "elif"
        # What a user reads: the types as written, without module aliases.
        names = re.sub(r"[\w.]*\.", "", self.r.annotation(t))
        lines += [
            f"{p}else:",
            f'{p}    raise _not_in_union({uv}, "{_escape(names)}")',
        ]
        return lines

    def _write_narrowed(
        self, branch: AvroType, uv: str, ind: int, fn: _Function, depth: int
    ) -> list[str]:
        """Write union value ``uv`` (narrowed by isinstance) as ``branch``."""
        return self.write(branch, uv, ind, fn, depth)

    def _branch_class(self, ref: Ref) -> str:
        nt = self.registry.named(ref)
        if nt.logical == "decimal":
            return "_decimal.Decimal"
        if nt.logical == "duration":
            return f"{self._support()}.Duration"
        return self.r.class_ref(nt.fullname)

    def _predicates(self, t: AvroType, x: str, deep: bool) -> list[tuple[str, AvroType]]:
        """(condition on ``x``, type to write it as) for a non-named union branch, as
        fastavro's validation accepts values: a logical type also takes its base value."""
        if isinstance(t, Primitive):
            base = Primitive(t.name)
            name, logical = t.name, t.logical
            if name == "null":
                return [(f"{x} is None", t)]
            if name == "boolean":
                return [(f"isinstance({x}, bool)", t)]
            if name in ("int", "long"):
                lo, hi = (_INT_MIN, _INT_MAX) if name == "int" else (_LONG_MIN, _LONG_MAX)
                plain = (
                    f"isinstance({x}, int) and not isinstance({x}, bool) and {lo} <= {x} <= {hi}"
                )
                if logical is None:
                    return [(plain, t)]
                cls = _LOGICAL_CLASSES[logical]
                return [(f"isinstance({x}, {cls})", t), (plain, base)]
            if name in ("float", "double"):
                return [(f"isinstance({x}, (int, float)) and not isinstance({x}, bool)", t)]
            if name == "string":
                if logical == "uuid":
                    return [(f"isinstance({x}, _uuid.UUID)", t), (f"isinstance({x}, str)", base)]
                return [(f"isinstance({x}, str)", t)]
            if logical == "decimal":
                return [
                    (f"isinstance({x}, _decimal.Decimal)", t),
                    (f"isinstance({x}, (bytes, bytearray))", base),
                ]
            return [(f"isinstance({x}, (bytes, bytearray))", t)]
        if isinstance(t, ArrayType):
            if deep:
                return [(f"{self._validator(t)}({x})", t)]
            return [(f"isinstance({x}, list)", t)]
        if isinstance(t, MapType):
            if deep:
                return [(f"{self._validator(t)}({x})", t)]
            return [(f"isinstance({x}, dict)", t)]
        if isinstance(t, UnionType):  # not valid Avro inside a union; the loader rejects it
            return []
        return [(f"isinstance({x}, {self._branch_class(t)})", t)]

    def _validator(self, t: AvroType) -> str:
        """A helper telling whether a value fits ``t`` (for unions of several arrays/maps)."""
        name = f"_fits_{self._part_name(t)}"
        if name in self.m.helpers:
            return name
        lines = [f"def {name}(x: object) -> bool:  # {_type_key(t)}"]
        self.m.helpers[name] = lines  # reserved before recursing
        self.m.uses_cast = True
        if isinstance(t, ArrayType):
            lines += [
                "    if not isinstance(x, list):",
                "        return False",
                '    for i in cast("list[object]", x):',
                f"        if not ({self._fits(t.items, 'i')}):",
                "            return False",
                "    return True",
            ]
        elif isinstance(t, MapType):
            lines += [
                "    if not isinstance(x, dict):",
                "        return False",
                '    for k, i in cast("dict[object, object]", x).items():',
                f"        if not isinstance(k, str) or not ({self._fits(t.values, 'i')}):",
                "            return False",
                "    return True",
            ]
        else:
            lines.append(f"    return {self._fits(t, 'x')}")
        return name

    def _fits(self, t: AvroType, x: str) -> str:
        if isinstance(t, UnionType):
            parts = [self._fits(b, x) for b in t.branches]
            return " or ".join(f"({part})" for part in parts)
        if isinstance(t, (ArrayType, MapType)):
            return f"{self._validator(t)}({x})"
        if isinstance(t, Ref):
            return f"isinstance({x}, {self._branch_class(t)})"
        return " or ".join(f"({cond})" for cond, _ in self._predicates(t, x, True))

    # -- reading -----------------------------------------------------------------------

    def _record_fields_read(
        self, nt: NamedType, o: str, ind: int, fn: _Function, depth: int
    ) -> list[str]:
        names = self.members[nt.fullname]
        lines: list[str] = []
        fields = nt.fields
        p = _pad(ind)
        i = 0
        while i < len(fields):
            run = 0
            while i + run < len(fields) and _fixed_width(fields[i + run].type):
                run += 1
            if run >= 2:
                codes = "".join(_DOUBLE_RUN[_prim(f.type)] for f in fields[i : i + run])
                unpacker = self._struct(codes, "unpack_from")
                targets = ", ".join(f"{o}.{names[f.name]}" for f in fields[i : i + run])
                width = sum(8 if c == "d" else 4 for c in codes)
                lines += [f"{p}{targets} = {unpacker}(data, pos)", f"{p}pos += {width}"]
                i += run
                continue
            f = fields[i]
            lines += self.read(f.type, _assign(f"{o}.{names[f.name]}"), ind, fn, depth)
            i += 1
        return lines

    def read(self, t: AvroType, sink: Sink, ind: int, fn: _Function, depth: int) -> list[str]:
        """Lines reading a ``t`` at ``data[pos]`` and passing its value to ``sink``."""
        p = _pad(ind)
        if isinstance(t, Primitive):
            return self._read_primitive(t, sink, ind, fn)
        if ind >= _NEST_LIMIT and isinstance(t, (ArrayType, MapType, UnionType)):
            xv = fn.var("x")
            reader, boxed = self._part_reader(t)
            value = f'cast("{self.r.annotation(t)}", {xv})' if boxed else xv
            return [f"{p}{xv}, pos = {reader}(data, pos)", f"{p}{sink(value)}"]
        if isinstance(t, Ref):
            nt = self.registry.named(t)
            if nt.kind == "record":
                if self._inline(nt.fullname, depth):
                    ov = fn.var("o")
                    return [
                        f"{p}{ov} = object.__new__({self.r.class_ref(nt.fullname)})",
                        *self._record_fields_read(nt, ov, ind, fn, depth + 1),
                        f"{p}{sink(ov)}",
                    ]
                ov = fn.var("o")
                return [
                    f"{p}{ov}, pos = _read_{self.idents[nt.fullname]}(data, pos)",
                    f"{p}{sink(ov)}",
                ]
            if nt.kind == "enum":
                table = self._enum_symbols(nt)
                nv = fn.var("n")
                return [*_read_varint_lines(nv, ind, fn), f"{p}{sink(f'{table}[{nv}]')}"]
            end = fn.var("e")
            span = f"data[pos:{end}]"
            if nt.logical == "decimal":
                value = self._decimal_read(span, nt.precision, nt.scale)
            elif nt.logical == "duration":
                value = f"{self._support()}.Duration(*{self._struct('III', 'unpack')}({span}))"
            else:
                value = f"bytes.__new__({self.r.class_ref(nt.fullname)}, {span})"
            return [f"{p}{end} = pos + {nt.size}", f"{p}{sink(value)}", f"{p}pos = {end}"]
        if isinstance(t, ArrayType):
            av = fn.var("a")
            ann = self.r.annotation(t)
            item = self.read(t.items, Sink(template=f"{av}.append({{}})"), ind + 2, fn, depth)
            return [
                f"{p}{av}: {ann} = []",
                *self._blocks(ind, fn, item, self._min_size(t.items) > 0),
                f"{p}{sink(av)}",
            ]
        if isinstance(t, MapType):
            mv, kv = fn.var("m"), fn.var("k")
            ann = self.r.annotation(t)
            key = self._read_primitive(Primitive("string"), _assign(kv), ind + 2, fn)
            entry = self.read(t.values, _assign(f"{mv}[{kv}]"), ind + 2, fn, depth)
            return [
                f"{p}{mv}: {ann} = {{}}",
                *self._blocks(ind, fn, key + entry, True),
                f"{p}{sink(mv)}",
            ]
        return self._read_union(t, sink, ind, fn, depth)

    def _blocks(self, ind: int, fn: _Function, item: list[str], sized: bool) -> list[str]:
        """Array/map blocks: count (negative: followed by the block's byte size), items."""
        p = _pad(ind)
        cv = fn.var("n")
        check = []
        if sized:
            # Each item takes a byte at least: a bigger count is broken data (checked
            # before counting to it).
            check = [
                f"{p}    if {cv} > len(data) - pos:",
                f"{p}        raise _bad_count({cv}, pos, data)",
            ]
        return [
            f"{p}while True:",
            *_read_varint_lines(cv, ind + 1, fn),
            f"{p}    if {cv} == 0:",
            f"{p}        break",
            f"{p}    if {cv} < 0:",
            f"{p}        # A negative count is followed by the block's size in bytes: skipped.",
            f"{p}        {cv} = -{cv}",
            f"{p}        _, pos = _read_long(data, pos)",
            *check,
            f"{p}    for _ in range({cv}):",
            *item,
        ]

    def _read_primitive(self, t: Primitive, sink: Sink, ind: int, fn: _Function) -> list[str]:
        p = _pad(ind)
        name, logical = t.name, t.logical
        if name == "null":
            return [f"{p}{sink('None')}"]
        if name == "boolean":
            return [f"{p}{sink('data[pos] != 0')}", f"{p}pos += 1"]
        if name in ("float", "double"):
            unpacker = self._struct(_DOUBLE_RUN[name], "unpack_from")
            width = 8 if name == "double" else 4
            return [f"{p}{sink(f'{unpacker}(data, pos)[0]')}", f"{p}pos += {width}"]
        if name in ("string", "bytes"):
            helper = "_read_str" if name == "string" else "_read_bytes"
            if logical is None and sink.target is not None:
                return [f"{p}{sink.target}, pos = {helper}(data, pos)"]
            sv = fn.var("s")
            value = sv
            if logical == "uuid":
                value = f"_uuid_from_str({sv})"
            elif logical == "decimal":
                value = self._decimal_read(sv, t.precision, t.scale)
            return [f"{p}{sv}, pos = {helper}(data, pos)", f"{p}{sink(value)}"]
        nv = fn.var("n")
        lines = _read_varint_lines(nv, ind, fn)
        if logical is None:
            return [*lines, f"{p}{sink(nv)}"]
        return [*lines, f"{p}{sink(_LOGICAL_READS[logical].format(nv))}"]

    def _read_union(
        self, t: UnionType, sink: Sink, ind: int, fn: _Function, depth: int
    ) -> list[str]:
        p = _pad(ind)
        bv = fn.var("b")
        # A branch index below 64 is one byte: its zigzag value is twice the index. Each
        # branch passes its value on itself: a local typed with the union would make mypyc
        # store a bool of `bool | int` as an int.
        lines = [f"{p}{bv} = data[pos]", f"{p}pos += 1"]
        keyword = "if"
        for index, branch in enumerate(t.branches):
            lines.append(f"{p}{keyword} {bv} == {index * 2}:")
            lines += self.read(branch, sink, ind + 1, fn, depth)
            keyword = "elif"
        lines += [
            f"{p}else:",
            f"{p}    raise _bad_branch({bv}, pos - 1, {len(t.branches)})",
        ]
        return lines

    # -- deeply nested types --------------------------------------------------------

    def _part_name(self, t: AvroType) -> str:
        # Named by the type itself: the same whatever order the code is emitted in.
        return hashlib.sha256(_type_key(t).encode("utf-8")).hexdigest()[:12]

    def _part_writer(self, t: AvroType) -> str:
        """A function writing a ``t`` (for a type nested too deep to write in place)."""
        name = f"_write_part_{self._part_name(t)}"
        if name not in self.m.helpers:
            # A `bool | int` value would reach mypyc-compiled code as an int: untyped.
            ann = "Any" if self._bool_or_int(t) else self.r.annotation(t)
            lines = [f"def {name}(out: bytearray, v: {ann}) -> None:  # {_type_key(t)}"]
            self.m.helpers[name] = lines  # reserved before recursing
            lines += self.write(t, "v", 1, _Function(), 0)
        return name

    def _part_reader(self, t: AvroType) -> tuple[str, bool]:
        """A function reading a ``t``, and whether it returns the value as ``object``
        (a `bool | int` union, which mypyc would hold as an int in a typed local)."""
        name = f"_read_part_{self._part_name(t)}"
        boxed = isinstance(t, UnionType) and self._bool_or_int(t)
        if name not in self.m.helpers:
            ann = "object" if boxed else self.r.annotation(t)
            lines = [f"def {name}(data: bytes, pos: int) -> tuple[{ann}, int]:  # {_type_key(t)}"]
            self.m.helpers[name] = lines  # reserved before recursing
            fn = _Function()
            if isinstance(t, UnionType):
                # Each branch returns its own value (see _read_union).
                bv = fn.var("b")
                lines += ["    " + f"{bv} = data[pos]", "    pos += 1"]
                keyword = "if"
                for index, branch in enumerate(t.branches):
                    lines.append(f"    {keyword} {bv} == {index * 2}:")
                    if isinstance(branch, Primitive) and branch.name == "null":
                        lines.append("        return None, pos")  # a local would be typed None
                    else:
                        xv = fn.var("x")
                        lines += self.read(branch, _assign(xv), 2, fn, 0)
                        lines.append(f"        return {xv}, pos")
                    keyword = "elif"
                lines.append(f"    raise _bad_branch({bv}, pos - 1, {len(t.branches)})")
            else:
                xv = fn.var("x")
                lines += [
                    f"    {xv}: {ann}",
                    *self.read(t, _assign(xv), 1, fn, 0),
                    f"    return {xv}, pos",
                ]
        if boxed:
            self.m.uses_cast = True
        return name, boxed

    # -- constants ---------------------------------------------------------------------

    def _support(self) -> str:
        return self.r.support()

    def _struct(self, codes: str, method: str) -> str:
        name = f"_{'pack' if method == 'pack' else 'unpack'}_{codes}"
        if method == "unpack":
            name = f"_unpack_bytes_{codes}"
        self.m.constants[name] = f'_struct.Struct("<{codes}").{method}'
        return name

    def _enum_encoding(self, nt: NamedType) -> str:
        name = f"_ENUM_INDEX_{self._const_ident(nt.fullname)}"
        if name not in self.m.constants:
            items = ", ".join(
                f'"{s}": {py_bytes(_varint_bytes(i))}' for i, s in enumerate(nt.symbols)
            )
            self.m.constants[name] = f"{{{items}}}"
        return name

    def _enum_symbols(self, nt: NamedType) -> str:
        name = f"_ENUM_MEMBER_{self._const_ident(nt.fullname)}"
        # Members are defined in symbol order (and are never aliases: symbols are unique).
        self.m.constants[name] = f"dict(enumerate({self.r.class_ref(nt.fullname)}))"
        return name

    def _decimal_read(self, span: str, precision: int, scale: int) -> str:
        ctx = f"_DECIMAL_CONTEXT_{precision}"
        self.m.constants[ctx] = f"_decimal.Context(prec={precision})"
        # A helper call, not the expression spelled out: that line would be too long for the
        # formatter's limit in most places (and the call is a small part of a decimal's cost).
        return f"_decimal_of({span}, {-scale}, {ctx})"

    def _const_ident(self, fullname: str) -> str:
        return re.sub(r"\W", "_", fullname)


# -- emitted snippets ----------------------------------------------------------------


def _assign(target: str) -> Sink:
    return Sink(target=target)


def _pad(ind: int) -> str:
    return "    " * ind


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _alias(target: tuple[str, ...]) -> str:
    return module_alias(target)


def _varint_bytes(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 127:
        out.append(z & 127 | 128)
        z >>= 7
    out.append(z)
    return bytes(out)


def _varint_lines(
    x: str, ind: int, fn: _Function, *, positive: bool = False, constant: int | None = None
) -> list[str]:
    """Append the zigzag varint of int expression ``x``."""
    p = _pad(ind)
    if constant is not None:
        data = _varint_bytes(constant)
        if len(data) == 1:
            return [f"{p}out.append({data[0]})"]
        return [f"{p}out += {py_bytes(data)}"]
    zv = fn.var("z")
    if positive:
        # Lengths and counts: never negative, so the zigzag value is twice the number.
        return [
            f"{p}{zv} = {x} << 1",
            f"{p}if {zv} < 128:",
            f"{p}    out.append({zv})",
            f"{p}else:",
            f"{p}    _write_long(out, {zv})",
        ]
    nv = x
    lines: list[str] = []
    if not re.fullmatch(r"[a-z]\d+", x):
        nv = fn.var("n")
        lines.append(f"{p}{nv} = {x}")
    return [
        *lines,
        f"{p}{zv} = ({nv} << 1) ^ ({nv} >> 63)",
        f"{p}if {zv} < 128:",
        f"{p}    out.append({zv})",
        f"{p}else:",
        f"{p}    _write_long(out, {zv})",
    ]


def _read_varint_lines(target: str, ind: int, fn: _Function) -> list[str]:
    """Read a zigzag varint into local ``target``."""
    p = _pad(ind)
    bv = fn.var("b")
    return [
        f"{p}{bv} = data[pos]",
        f"{p}{target}, pos = (_ZIGZAG[{bv}], pos + 1) if {bv} < 128 else _read_long(data, pos)",
    ]


def _prim(t: AvroType) -> str:
    assert isinstance(t, Primitive)
    return t.name


def _fixed_width(t: AvroType) -> bool:
    return isinstance(t, Primitive) and t.name in _DOUBLE_RUN and t.logical is None


def _ambiguous_containers(branches: list[AvroType]) -> bool:
    arrays = sum(isinstance(b, ArrayType) for b in branches)
    maps = sum(isinstance(b, MapType) for b in branches)
    return arrays > 1 or maps > 1


def _type_key(t: AvroType) -> str:
    if isinstance(t, Primitive):
        return f"{t.name}/{t.logical}"
    if isinstance(t, Ref):
        return t.fullname
    if isinstance(t, ArrayType):
        return f"array<{_type_key(t.items)}>"
    if isinstance(t, MapType):
        return f"map<{_type_key(t.values)}>"
    return "[" + ",".join(_type_key(b) for b in t.branches) + "]"


def recursive_records(registry: AvroRegistry) -> set[str]:
    """Records that can contain themselves (directly or through other types)."""
    edges: dict[str, set[str]] = {}
    for fullname, nt in registry.types.items():
        if nt.kind != "record":
            continue
        out: set[str] = set()
        pending: list[AvroType] = [f.type for f in nt.fields]
        while pending:
            t = pending.pop()
            if isinstance(t, Ref):
                if registry.named(t).kind == "record":
                    out.add(t.fullname)
            elif isinstance(t, ArrayType):
                pending.append(t.items)
            elif isinstance(t, MapType):
                pending.append(t.values)
            elif isinstance(t, UnionType):
                pending.extend(t.branches)
        edges[fullname] = out
    return _on_cycles(edges)


def _on_cycles(edges: dict[str, set[str]]) -> set[str]:
    """The nodes that lie on a cycle: those of a strongly connected component of more than
    one node, or with an edge to themselves (Tarjan's algorithm, without recursion, in time
    linear in the graph: a search from every node is quadratic at thousands of records)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[str] = set()
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = []
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work.append((root, iter(edges.get(root, ()))))
        while work:
            node, pending = work[-1]
            child = next(pending, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    found.update(component)
    return found


_STDLIB = {
    "_operator": "import operator as _operator",
    "_dt": "import datetime as _dt",
    "_decimal": "import decimal as _decimal",
    "_os": "import os as _os",
    "_struct": "import struct as _struct",
    "_uuid": "import uuid as _uuid",
}
_IMPORT_MARKERS = (*(f"{alias}." for alias in _STDLIB), "TypeVar(", "_values.")

# Logical type -> (expression converting the value {0} to the Avro int/long, the support
# module's fallback for other values, which follows fastavro).
_LOGICAL_WRITES = {
    "date": ("{0}.toordinal() - 719163", "date_days"),
    "time-millis": (
        "{0}.hour * 3600000 + {0}.minute * 60000 + {0}.second * 1000 + {0}.microsecond // 1000",
        "time_millis",
    ),
    "time-micros": (
        "{0}.hour * 3600000000 + {0}.minute * 60000000 + {0}.second * 1000000 + {0}.microsecond",
        "time_micros",
    ),
    "timestamp-millis": ("({0} - _EPOCH) // _MILLISECOND", "timestamp_millis"),
    "timestamp-micros": ("({0} - _EPOCH) // _MICROSECOND", "timestamp_micros"),
    "local-timestamp-millis": ("({0} - _EPOCH_NAIVE) // _MILLISECOND", "local_timestamp_millis"),
    "local-timestamp-micros": ("({0} - _EPOCH_NAIVE) // _MICROSECOND", "local_timestamp_micros"),
}
_LOGICAL_READS = {
    "date": "_date_fromordinal({0} + 719163)",
    "time-millis": (
        "_dt.time(int({0} / 3600000), int({0} / 60000) % 60, int({0} / 1000) % 60, "
        "int({0} % 1000) * 1000)"
    ),
    "time-micros": (
        "_dt.time(int({0} / 3600000000), int({0} / 60000000) % 60, int({0} / 1000000) % 60, "
        "{0} % 1000000)"
    ),
    "timestamp-millis": "_EPOCH + {0} * _MILLISECOND",
    "timestamp-micros": "_EPOCH + {0} * _MICROSECOND",
    "local-timestamp-millis": "_EPOCH_NAIVE + {0} * _MILLISECOND",
    "local-timestamp-micros": "_EPOCH_NAIVE + {0} * _MICROSECOND",
}
_LOGICAL_CLASSES = {
    "date": "_dt.date",
    "time-millis": "_dt.time",
    "time-micros": "_dt.time",
    "timestamp-millis": "_dt.datetime",
    "timestamp-micros": "_dt.datetime",
    "local-timestamp-millis": "_dt.datetime",
    "local-timestamp-micros": "_dt.datetime",
}

_BASE_HELPERS = '''
#: One-byte zigzag varints: byte -> value.
_ZIGZAG: Final[tuple[int, ...]] = tuple((b >> 1) ^ -(b & 1) for b in range(128))

#: One-byte lengths: byte -> length; a negative length (odd byte) maps past any buffer.
_LENGTH: Final[tuple[int, ...]] = tuple(1 << 62 if b & 1 else b >> 1 for b in range(128))


def _write_long(out: bytearray, z: int) -> None:
    """Append zigzag value ``z`` as a varint (callers append one-byte values themselves)."""
    if z >> 64:
        raise OverflowError(f"{(z >> 1) ^ -(z & 1)} does not fit an Avro long (64 bits)")
    while z > 127:
        out.append(z & 127 | 128)
        z >>= 7
    out.append(z)


def _read_long(data: bytes, pos: int) -> tuple[int, int]:
    """The zigzag varint at ``data[pos]`` and the position after it."""
    b = data[pos]
    z = b & 127
    shift = 7
    pos += 1
    while b > 127:
        if shift > 63:
            raise ValueError(f"varint at byte {pos} is longer than 10 bytes")
        b = data[pos]
        pos += 1
        z |= (b & 127) << shift
        shift += 7
    return (z >> 1) ^ -(z & 1), pos


def _write_str(out: bytearray, s: str) -> None:
    b = s.encode()
    z = len(b) << 1
    if z < 128:
        out.append(z)
    else:
        _write_long(out, z)
    out += b


def _write_bytes(out: bytearray, b: bytes | bytearray) -> None:
    z = len(b) << 1
    if z < 128:
        out.append(z)
    else:
        _write_long(out, z)
    out += b


def _read_str(data: bytes, pos: int) -> tuple[str, int]:
    """The string at ``data[pos]`` and the position after it; a negative one-byte length
    maps past any buffer (see ``_LENGTH``), so reading stops with an error."""
    b = data[pos]
    if b < 128:
        end = pos + 1 + _LENGTH[b]
        return data[pos + 1 : end].decode(), end
    n, pos = _read_length(data, pos)
    end = pos + n
    return data[pos:end].decode(), end


def _read_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    """The bytes at ``data[pos]`` and the position after it."""
    b = data[pos]
    if b < 128:
        end = pos + 1 + _LENGTH[b]
        return data[pos + 1 : end], end
    n, pos = _read_length(data, pos)
    end = pos + n
    return data[pos:end], end


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    """A length (several bytes long) at ``data[pos]`` and the position after it."""
    n, end = _read_long(data, pos)
    if n < 0:
        raise ValueError(f"negative length {n} at byte {pos}")
    if n > len(data) - end:
        raise EOFError(f"length {n} at byte {pos} runs past the data ({len(data)} bytes)")
    return n, end


def _bad_count(count: int, pos: int, data: bytes) -> EOFError:
    return EOFError(f"{count} items at byte {pos} cannot fit in the {len(data) - pos} bytes left")


def _checked(value: _T, pos: int, data: bytes) -> _T:
    if pos > len(data):
        raise _truncated(pos, data)
    return value


def _truncated(pos: int, data: bytes) -> EOFError:
    return EOFError(f"the data ends at byte {len(data)}, the value needs {pos} bytes")


def _wrong_size(name: str, size: int, value: bytes) -> ValueError:
    return ValueError(f"{name} needs exactly {size} bytes, got {len(value)}")


def _not_in_union(value: object, union: str) -> ValueError:
    return ValueError(f"{value!r:.80} (type {type(value).__name__}) is none of {union}")


def _bad_branch(byte: int, pos: int, count: int) -> ValueError:
    return ValueError(f"union branch byte {byte} at byte {pos} is not one of {count} branches")


def _uuid_str(u: _uuid.UUID) -> str:
    h = f"{u.int:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _uuid_from_str(text: str) -> _uuid.UUID:
    """``uuid.UUID(text)``, without its keyword handling for the usual 36-character form."""
    digits = text.replace("-", "")
    if len(text) == 36 and len(digits) == 32:
        try:
            value = int(digits, 16)
        except ValueError:
            return _uuid.UUID(text)
        u = object.__new__(_uuid.UUID)
        object.__setattr__(u, "int", value)
        object.__setattr__(u, "is_safe", _uuid.SafeUUID.unknown)
        return u
    return _uuid.UUID(text)


def _decimal_digits(d: _decimal.Decimal, precision: int, scale: int) -> int:
    """The unscaled integer of ``d`` at ``scale``, checked as fastavro checks it."""
    _sign, digits, exponent = d.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"{d} is not a finite decimal")
    if len(digits) > precision:
        raise ValueError("The decimal precision is bigger than allowed by schema")
    if exponent + scale < 0:
        raise ValueError("Scale provided in schema does not match the decimal")
    unscaled = int(d.scaleb(scale, _EXACT))
    return unscaled


def _decimal_of(data: bytes, exponent: int, context: _decimal.Context) -> _decimal.Decimal:
    """The decimal whose unscaled two's complement integer is ``data``."""
    return context.create_decimal(int.from_bytes(data, "big", signed=True)).scaleb(
        exponent, context
    )


def _decimal_bytes(d: object, precision: int, scale: int) -> bytes:
    """A bytes-backed decimal; like fastavro, bytes pass through unchanged."""
    if not isinstance(d, _decimal.Decimal):
        return d  # type: ignore[return-value]
    unscaled = _decimal_digits(d, precision, scale)
    size = (abs(unscaled).bit_length() + 8) // 8
    return unscaled.to_bytes(size, "big", signed=True)


def _decimal_fixed(d: object, precision: int, scale: int, size: int) -> bytes:
    """A fixed-backed decimal (two's complement, ``size`` bytes); bytes pass through."""
    if not isinstance(d, _decimal.Decimal):
        return d  # type: ignore[return-value]
    return _decimal_digits(d, precision, scale).to_bytes(size, "big", signed=True)


{logical_writers}

_T = TypeVar("_T")

_EXACT: Final = _decimal.Context(prec=_decimal.MAX_PREC)

_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

_EPOCH_NAIVE: Final = _dt.datetime(1970, 1, 1)

_MILLISECOND: Final = _dt.timedelta(milliseconds=1)

_MICROSECOND: Final = _dt.timedelta(microseconds=1)

_date_fromordinal: Final = _dt.date.fromordinal
'''

_LOGICAL_WRITER = """
def _write_{name}(out: bytearray, value: {annotation}) -> None:
    try:
        n = {expr}
    except (TypeError, AttributeError):
        # Not the annotated type: fastavro's conversion (naive datetimes, ints, ...).
        n = _values.{fallback}(value)
    _write_long(out, (n << 1) ^ (n >> 63))
"""
_BASE_HELPERS = _BASE_HELPERS.replace(
    "{logical_writers}",
    "\n\n".join(
        _LOGICAL_WRITER.strip("\n").format(
            name=logical.replace("-", "_"),
            annotation=_LOGICAL_CLASSES[logical],
            expr=expr.format("value"),
            fallback=fallback,
        )
        for logical, (expr, fallback) in _LOGICAL_WRITES.items()
    ),
)


def _table(head: str, entries: list[str]) -> list[str]:
    """A dict constant, one entry a line; an empty one as ``{}`` (as ruff format writes it)."""
    return [f"{head} = {{", *entries, "}"] if entries else [f"{head} = {{}}"]


def _signature(name: str, params: list[str], returns: str) -> list[str]:
    """A ``def`` line as ruff format writes it: one line, or the parameters on a line of
    their own (a single one with a trailing comma) when that is too long. Anything longer
    is left on one line for the formatter (generator.formatting)."""
    line = f"def {name}({', '.join(params)}) -> {returns}:"
    if len(line) <= LINE_LENGTH:
        return [line]
    inner = "    " + ", ".join(params) + ("," if len(params) == 1 else "")
    close = f") -> {returns}:"
    if len(inner) > LINE_LENGTH or len(close) > LINE_LENGTH:
        return [line]
    return [f"def {name}(", inner, close]


@functools.cache
def _base_blocks() -> tuple[tuple[str, str], ...]:
    """(defined name, text) of each definition in ``_BASE_HELPERS``."""
    blocks = []
    for chunk in re.split(r"\n\n+(?=[#_a-zA-Z])", _BASE_HELPERS.strip("\n")):
        match = re.search(r"^(?:def |)(_\w+)", chunk, re.MULTILINE)
        assert match is not None, chunk
        blocks.append((match.group(1), chunk))
    return tuple(blocks)


def _imports_in(source: str) -> set[str]:
    """Which of the texts that decide the module's imports ``source`` holds: a standard
    module's alias and a dot (``_STDLIB``), ``TypeVar(``, ``_values.``."""
    return {marker for marker in _IMPORT_MARKERS if marker in source}


def _base_names_in(source: str) -> set[str]:
    """The base helpers ``source`` names itself (not through other helpers)."""
    return {name for name, _ in _base_blocks() if _uses(source, name)}


def _uses(source: str, name: str) -> bool:
    # Substring searches with a look at the neighbours: a regex over a module of hundreds
    # of thousands of lines costs a large part of its generation.
    start = source.find(name)
    while start >= 0:
        end = start + len(name)
        before = source[start - 1] if start else " "
        after = source[end] if end < len(source) else " "
        if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
            return True
        start = source.find(name, end)
    return False


def _used_base(named: set[str]) -> list[str]:
    """The lines of the base helpers in ``named`` and of those they use, in order."""
    blocks = _base_blocks()
    chunks = dict(blocks)
    used = set(named)
    pending = list(used)
    while pending:  # helpers using other helpers
        chunk = chunks[pending.pop()]
        for name in chunks:
            if name not in used and _uses(chunk, name):
                used.add(name)
                pending.append(name)
    out: list[str] = []
    for name, chunk in blocks:
        if name in used:
            out += ["", "", *chunk.splitlines()]
    return out


# Replaces this module's functions with the compiled copy's when that copy was built from
# this very code. GEN_TOPICS_AVRO_NATIVE=0 keeps the Python ones.
_NATIVE_SWAP = """

def _use_native() -> bool:
    if __name__.endswith("_native") or _os.environ.get("GEN_TOPICS_AVRO_NATIVE") == "0":
        return False
    import importlib
    import warnings

    try:
        native = importlib.import_module(__name__ + "_native")
    except ImportError:
        return False
    if getattr(native, "CODE_DIGEST", None) != CODE_DIGEST:
        warnings.warn(
            f"{native.__file__} was compiled from other code than {__file__}; using the "
            "Python codec. Rebuild it after regenerating (python -m generator.avro.native).",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    here = globals()
    for name, value in vars(native).items():
        if name.startswith(("encode_", "decode_", "_write_", "_read_", "_resolve_", "_fits_")):
            here[name] = value
    for table in ("WRITERS", "READERS", "RESOLVERS"):
        here[table].update(getattr(native, table))
    return True


#: True when the compiled copy of this module is in use.
NATIVE: Final = _use_native()
"""
