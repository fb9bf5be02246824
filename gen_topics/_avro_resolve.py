"""Schema resolution into generated classes: data written with another schema, read
straight into the reader's Python objects.

For one writer schema (say, from the registry) and a codec's reader schema this builds,
once, Python source that reads the writer's bytes and fills the reader's generated
classes, and compiles it with ``exec``. Where the writer's definition of a record is the
reader's own, it calls the package's specialised reader for it (the compiled one when the
package was built with mypyc): an evolved top-level record still reads its unchanged
nested records at full speed.

The rules are the Avro specification's, as fastavro applies them: fields match by name
(or a reader field's alias) and may be reordered; writer-only fields are skipped; reader-
only fields take the generated class's default (no default: :class:`SchemaResolutionError`);
named types match by unqualified name or a reader alias; a writer union branch goes to the
reader branch of its own type, else to the first it promotes to (int/long/float to
long/float/double, string and bytes to each other); an enum symbol the reader lacks takes
the reader's default symbol.
The reader's types decide the Python objects: a logical type converts when the reader has
it (with the writer's unit or scale when the writer names one); a writer logical type the
reader's field lacks leaves the base value.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal as _decimal
import enum
import struct
import types
import uuid as _uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

__all__ = ["SchemaResolutionError", "resolving_decoder", "same_schema"]

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "error", "enum", "fixed"})
_PROMOTIONS = {
    "int": ("long", "float", "double"),
    "long": ("float", "double"),
    "float": ("double",),
    "string": ("bytes",),
    "bytes": ("string",),
}
# Logical types the generated code maps to a Python type, by base type (as the generator).
_LOGICAL = {
    "string": {"uuid"},
    "bytes": {"decimal"},
    "int": {"date", "time-millis"},
    "long": {
        "time-micros",
        "timestamp-millis",
        "timestamp-micros",
        "local-timestamp-millis",
        "local-timestamp-micros",
    },
}
# Conversions that give the reader's Python type from another unit of the writer's.
_FAMILIES = (
    {"timestamp-millis", "timestamp-micros"},
    {"local-timestamp-millis", "local-timestamp-micros"},
    {"time-millis", "time-micros"},
)
_CONVERT = {
    "uuid": "_uuid_from_str({})",
    "date": "_date_fromordinal({} + 719163)",
    "time-millis": "_time_millis({})",
    "time-micros": "_time_micros({})",
    "timestamp-millis": "_EPOCH + {} * _MILLISECOND",
    "timestamp-micros": "_EPOCH + {} * _MICROSECOND",
    "local-timestamp-millis": "_EPOCH_NAIVE + {} * _MILLISECOND",
    "local-timestamp-micros": "_EPOCH_NAIVE + {} * _MICROSECOND",
}

Reader = Callable[[bytes, int], tuple[Any, int]]


class SchemaResolutionError(ValueError):
    """The writer's data cannot be read as the reader's type."""


# -- helpers the generated source calls ------------------------------------------------

_ZIGZAG = tuple((b >> 1) ^ -(b & 1) for b in range(128))
_LENGTH = tuple(1 << 62 if b & 1 else b >> 1 for b in range(128))


def _read_long(data: bytes, pos: int) -> tuple[int, int]:
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


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    n, end = _read_long(data, pos)
    if n < 0:
        raise ValueError(f"negative length {n} at byte {pos}")
    return n, end


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


def _time_millis(n: int) -> _dt.time:
    return _dt.time(int(n / 3600000), int(n / 60000) % 60, int(n / 1000) % 60, int(n % 1000) * 1000)


def _time_micros(n: int) -> _dt.time:
    return _dt.time(int(n / 3600000000), int(n / 60000000) % 60, int(n / 1000000) % 60, n % 1000000)


def _fail(message: str) -> SchemaResolutionError:
    return SchemaResolutionError(message)


def _truncated(pos: int, data: bytes) -> EOFError:
    return EOFError(f"the data ends at byte {len(data)}, the value needs {pos} bytes")


_BASE_NAMESPACE: dict[str, Any] = {
    "_ZIGZAG": _ZIGZAG,
    "_LENGTH": _LENGTH,
    "_read_long": _read_long,
    "_read_length": _read_length,
    "_uuid_from_str": _uuid_from_str,
    "_time_millis": _time_millis,
    "_time_micros": _time_micros,
    "_date_fromordinal": _dt.date.fromordinal,
    "_EPOCH": _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC),
    "_EPOCH_NAIVE": _dt.datetime(1970, 1, 1),
    "_MILLISECOND": _dt.timedelta(milliseconds=1),
    "_MICROSECOND": _dt.timedelta(microseconds=1),
    "_fail": _fail,
    "_truncated": _truncated,
    "_new": object.__new__,
    "_bytes_new": bytes.__new__,
    "_from_bytes": int.from_bytes,
    "_Context": _decimal.Context,
}


# -- schemas ---------------------------------------------------------------------------


class _Schema:
    """A parsed schema (fastavro's form) and its named types by full name."""

    def __init__(self, parsed: Any, named: Mapping[str, Any]) -> None:
        self.top = parsed
        self.named = named

    def node(self, s: Any) -> tuple[str, Any]:
        """(kind, definition): kind is a primitive name, record/enum/fixed/array/map/union."""
        if isinstance(s, list):
            return "union", s
        if isinstance(s, str):
            if s in PRIMITIVES:
                return s, {"type": s}
            return self.node(self.named[s])
        kind = s["type"]
        if isinstance(kind, (dict, list)):
            return self.node(kind)
        if kind in PRIMITIVES:
            return kind, s
        if kind == "error":
            return "record", s
        if kind in ("record", "enum", "fixed", "array", "map"):
            return kind, s
        return self.node(self.named[kind])


def _logical(kind: str, d: Any) -> tuple[str, int, int] | None:
    """(logical type, precision, scale) that the generated code maps, or None."""
    logical = d.get("logicalType") if isinstance(d, dict) else None
    if kind == "fixed":
        if logical == "duration" and d.get("size") == 12:
            return "duration", 0, 0
        if logical != "decimal":
            return None
    elif not isinstance(logical, str) or logical not in _LOGICAL.get(kind, ()):
        return None
    if logical == "decimal":
        precision, scale = d.get("precision"), d.get("scale", 0)
        if not isinstance(precision, int) or not isinstance(scale, int):
            return None
        return "decimal", precision, scale
    return logical, 0, 0


def _unqualified(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _names_match(w: Any, r: Any) -> bool:
    wname = w["name"]
    aliases = r.get("aliases", [])
    return (
        _unqualified(wname) == _unqualified(r["name"])
        or wname in aliases
        or (_unqualified(wname) in aliases)
    )


def same_schema(
    writer: Any, writer_named: Mapping[str, Any], reader: Any, reader_named: Mapping[str, Any]
) -> bool:
    """True when data of ``writer`` is laid out exactly as ``reader`` reads it (field names
    and order, types, logical types): the reader's own specialised code can read it.
    Schemas are in fastavro's parsed form, with their named types by full name."""
    return _Same(_Schema(writer, writer_named), _Schema(reader, reader_named)).same(writer, reader)


class _Same:
    def __init__(self, writer: _Schema, reader: _Schema) -> None:
        self.writer, self.reader = writer, reader
        self.assumed: set[tuple[str, str]] = set()

    def same(self, w: Any, r: Any) -> bool:
        kw, dw = self.writer.node(w)
        kr, dr = self.reader.node(r)
        if kw != kr:
            return False
        if kw in PRIMITIVES:
            return _logical(kw, dw) == _logical(kr, dr)
        if kw == "union":
            return len(dw) == len(dr) and all(self.same(a, b) for a, b in zip(dw, dr, strict=True))
        if kw == "array":
            return self.same(dw["items"], dr["items"])
        if kw == "map":
            return self.same(dw["values"], dr["values"])
        if kw == "enum":
            return list(dw["symbols"]) == list(dr["symbols"])
        if kw == "fixed":
            return dw["size"] == dr["size"] and _logical(kw, dw) == _logical(kr, dr)
        key = (dw["name"], dr["name"])
        if key in self.assumed:
            return True
        self.assumed.add(key)
        wf, rf = dw["fields"], dr["fields"]
        return len(wf) == len(rf) and all(
            a["name"] == b["name"] and self.same(a["type"], b["type"])
            for a, b in zip(wf, rf, strict=True)
        )


# -- code ------------------------------------------------------------------------------

Sink = Callable[[str], str]


# Arrays, maps and unions nest the emitted code; from this indentation on, a type goes to a
# function of its own: Python refuses more than 100 indentation levels or 20 nested loops
# in one function.
_NEST_LIMIT = 10
_NESTING = ("union", "array", "map")


def _assign(target: str) -> Sink:
    return lambda expr: f"{target} = {expr}"


def _pad(ind: int) -> str:
    return "    " * ind


class _Emitter:
    """Writes the resolving reader's source: one function per (writer, reader) record pair."""

    def __init__(
        self,
        writer: _Schema,
        reader: _Schema,
        classes: Mapping[str, type[Any]],
        readers: Mapping[str, Reader],
        planned: Mapping[str, Callable[..., tuple[Any, int]]],
    ) -> None:
        self.writer, self.reader = writer, reader
        self.classes, self.readers, self.planned = classes, readers, planned
        self.late: list[str] = []  # assignments after every function is defined
        self.ns: dict[str, Any] = dict(_BASE_NAMESPACE)
        self.functions: list[list[str]] = []
        self.pairs: dict[tuple[str, str], str] = {}
        self.skips: dict[str, str] = {}
        self.counter = 0

    def var(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, value: Any, prefix: str = "_c") -> str:
        name = self.var(prefix)
        self.ns[name] = value
        return name

    # -- reading with resolution ------------------------------------------------------

    def read(self, w: Any, r: Any, sink: Sink, ind: int) -> list[str]:
        p = _pad(ind)
        kw, dw = self.writer.node(w)
        kr, dr = self.reader.node(r)
        if ind >= _NEST_LIMIT and (kw in _NESTING or kr == "union"):
            # Deeper types go to a function of their own (Python's nesting limits).
            xv = self.var("x")
            step = self._step(self.read(w, r, _assign(xv), 1), xv)
            return [f"{p}{xv}, pos = {step}(data, pos)", f"{p}{sink(xv)}"]
        if kw == "union":
            return self._writer_union(dw, r, sink, ind)
        if kr == "union":
            branch = self._reader_branch(w, dr)
            if branch is None:
                return [f"{p}raise _fail({self._mismatch(dw, dr)!r})"]
            return self.read(w, branch, sink, ind)
        if kw in PRIMITIVES and kr in PRIMITIVES:
            return self._primitive(kw, dw, kr, dr, sink, ind)
        if kw != kr or (kw in _NAMED and not _names_match(dw, dr)):
            return [f"{p}raise _fail({self._mismatch(dw, dr)!r})"]
        if kw == "record":
            fn = self._record(dw, dr)
            ov = self.var("o")
            return [f"{p}{ov}, pos = {fn}(data, pos)", f"{p}{sink(ov)}"]
        if kw == "enum":
            return self._enum(dw, dr, sink, ind)
        if kw == "fixed":
            return self._fixed(dw, dr, sink, ind)
        if kw == "array":
            av = self.var("a")
            item = self.read(dw["items"], dr["items"], lambda e: f"{av}.append({e})", ind + 2)
            return [f"{p}{av} = []", *self._blocks(ind, item), f"{p}{sink(av)}"]
        mv, kv = self.var("m"), self.var("k")
        key = self._string(_assign(kv), ind + 2, decode=True)
        entry = self.read(dw["values"], dr["values"], _assign(f"{mv}[{kv}]"), ind + 2)
        return [f"{p}{mv} = {{}}", *self._blocks(ind, key + entry), f"{p}{sink(mv)}"]

    def _mismatch(self, w: Any, r: Any) -> str:
        def show(d: Any) -> str:
            if isinstance(d, list):
                return "[" + ", ".join(show(b) for b in d) + "]"
            if isinstance(d, dict):
                return str(d.get("name") or d.get("type"))
            return str(d)

        return f"the writer's {show(w)} cannot be read as the reader's {show(r)}"

    def _matches(self, w: Any, r: Any) -> bool:
        """fastavro's match_types: could ``w`` be read as ``r`` (for picking a branch)?"""
        kw, dw = self.writer.node(w)
        kr, dr = self.reader.node(r)
        if kw == "union" or kr == "union":
            return True
        if kw in PRIMITIVES and kr in PRIMITIVES:
            return kw == kr or kr in _PROMOTIONS.get(kw, ())
        if kw != kr:
            return False
        if kw in ("array", "map"):
            key = "items" if kw == "array" else "values"
            return self._matches(dw[key], dr[key])
        if kw == "fixed" and dw["size"] != dr["size"]:
            return False
        return _names_match(dw, dr)

    def _reader_branch(self, w: Any, branches: list[Any]) -> Any:
        """The reader branch for writer type ``w``: one of the same type first (as Avro's
        Java reader does; fastavro takes the first that matches, promotions included, so
        a string could become a bytes branch before the string branch), else the first
        that ``w`` promotes to."""
        kw, _dw = self.writer.node(w)
        for b in branches:
            if self.reader.node(b)[0] == kw and self._matches(w, b):
                return b
        return next((b for b in branches if self._matches(w, b)), None)

    def _writer_union(self, branches: list[Any], r: Any, sink: Sink, ind: int) -> list[str]:
        p = _pad(ind)
        nv = self.var("n")
        kr, dr = self.reader.node(r)
        lines = self._varint(nv, ind)
        keyword = "if"
        for index, branch in enumerate(branches):
            lines.append(f"{p}{keyword} {nv} == {index}:")
            keyword = "elif"
            target = self._reader_branch(branch, dr) if kr == "union" else r
            if target is None or (kr != "union" and not self._matches(branch, r)):
                message = self._mismatch(self.writer.node(branch)[1], dr)
                lines.append(f"{p}    raise _fail({message!r})")
                continue
            lines += self.read(branch, target, sink, ind + 1)
        lines += [
            f"{p}else:",
            f'{p}    raise ValueError(f"union branch {{{nv}}} is not one of {len(branches)}")',
        ]
        return lines

    def _primitive(self, kw: str, dw: Any, kr: str, dr: Any, sink: Sink, ind: int) -> list[str]:
        p = _pad(ind)
        if kw != kr and kr not in _PROMOTIONS.get(kw, ()):
            return [f"{p}raise _fail({self._mismatch(dw, dr)!r})"]
        lw, lr = _logical(kw, dw), _logical(kr, dr)
        convert = self._conversion(lw, lr)
        if isinstance(convert, str):
            return [f"{p}raise _fail({convert!r})"]
        if kw == "null":
            return [f"{p}{sink('None')}"]
        if kw == "boolean":
            return [f"{p}{sink('data[pos] != 0')}", f"{p}pos += 1"]
        if kw in ("float", "double"):
            fmt = self.const(struct.Struct("<d" if kw == "double" else "<f").unpack_from, "_u")
            return [f"{p}{sink(f'{fmt}(data, pos)[0]')}", f"{p}pos += {8 if kw == 'double' else 4}"]
        if kw in ("string", "bytes"):
            decode = kr == "string"
            if convert is not None and convert[0] == "decimal":
                _name, precision, scale = convert
                ctx = self.const(_decimal.Context(prec=precision), "_ctx")
                return self._string(
                    lambda span: sink(
                        f'{ctx}.create_decimal(_from_bytes({span}, "big", signed=True))'
                        f".scaleb({-scale}, {ctx})"
                    ),
                    ind,
                    decode=False,
                    raw=True,
                )
            if convert is not None:
                return self._string(
                    lambda e: sink(_CONVERT[convert[0]].format(e)), ind, decode=decode
                )
            return self._string(sink, ind, decode=decode)
        nv = self.var("n")
        value = nv
        if kr in ("float", "double"):
            value = f"float({nv})"
        elif convert is not None:
            value = _CONVERT[convert[0]].format(nv)
        return [*self._varint(nv, ind), f"{p}{sink(value)}"]

    def _conversion(
        self, lw: tuple[str, int, int] | None, lr: tuple[str, int, int] | None
    ) -> tuple[str, int, int] | str | None:
        """The logical conversion to apply, or a reason the types do not resolve."""
        if lr is None:
            return None
        if lw is None or lw == lr:
            return lr
        if lw[0] == lr[0] == "decimal":
            return lw  # the writer's scale gives the value
        if any(lw[0] in f and lr[0] in f for f in _FAMILIES):
            return lw  # the writer's unit, the reader's Python type
        return f"the writer's logical type {lw[0]} cannot be read as {lr[0]}"

    def _string(self, sink: Sink, ind: int, *, decode: bool, raw: bool = False) -> list[str]:
        p = _pad(ind)
        bv, ev = self.var("b"), self.var("e")
        span = f"data[pos:{ev}]"
        value = span if raw else (f"{span}.decode()" if decode else span)
        return [
            f"{p}{bv} = data[pos]",
            f"{p}if {bv} < 128:",
            f"{p}    {ev} = pos + 1 + _LENGTH[{bv}]",
            f"{p}    pos += 1",
            f"{p}else:",
            f"{p}    {ev}, pos = _read_length(data, pos)",
            f"{p}    {ev} += pos",
            f"{p}{sink(value)}",
            f"{p}pos = {ev}",
        ]

    def _varint(self, target: str, ind: int) -> list[str]:
        p = _pad(ind)
        bv = self.var("b")
        return [
            f"{p}{bv} = data[pos]",
            f"{p}if {bv} < 128:",
            f"{p}    pos += 1",
            f"{p}    {target} = _ZIGZAG[{bv}]",
            f"{p}else:",
            f"{p}    {target}, pos = _read_long(data, pos)",
        ]

    def _blocks(self, ind: int, item: list[str]) -> list[str]:
        p = _pad(ind)
        cv = self.var("n")
        return [
            f"{p}while True:",
            *self._varint(cv, ind + 1),
            f"{p}    if {cv} == 0:",
            f"{p}        break",
            f"{p}    if {cv} < 0:",
            f"{p}        {cv} = -{cv}",
            f"{p}        _, pos = _read_long(data, pos)",
            f"{p}    for _ in range({cv}):",
            *item,
        ]

    def _enum(self, dw: Any, dr: Any, sink: Sink, ind: int) -> list[str]:
        p = _pad(ind)
        cls = self.classes[dr["name"]]
        members = dict(zip(dr["symbols"], list(cast("type[enum.Enum]", cls)), strict=True))
        default = dr.get("default")
        table: dict[int, Any] = {}
        for index, symbol in enumerate(dw["symbols"]):
            if symbol in members:
                table[index] = members[symbol]
            elif isinstance(default, str) and default in members:
                table[index] = members[default]
        name = self.const(table, "_enum")
        nv, xv = self.var("n"), self.var("x")
        symbols = self.const(list(dw["symbols"]), "_symbols")
        message = f"not found in reader symbol list {dr['name']}, known symbols: {dr['symbols']}"
        return [
            *self._varint(nv, ind),
            f"{p}{xv} = {name}.get({nv})",
            f"{p}if {xv} is None:",
            f'{p}    raise _fail(f"{{{symbols}[{nv}]}} {message}")',
            f"{p}{sink(xv)}",
        ]

    def _fixed(self, dw: Any, dr: Any, sink: Sink, ind: int) -> list[str]:
        p = _pad(ind)
        ev = self.var("e")
        span = f"data[pos:{ev}]"
        lw, lr = _logical("fixed", dw), _logical("fixed", dr)
        if lr is not None and lr[0] == "decimal":
            _name, precision, scale = lw if lw is not None and lw[0] == "decimal" else lr
            ctx = self.const(_decimal.Context(prec=precision), "_ctx")
            value = (
                f'{ctx}.create_decimal(_from_bytes({span}, "big", signed=True))'
                f".scaleb({-scale}, {ctx})"
            )
        elif lr is not None:  # duration
            cls = self.const(self.classes[dr["name"]], "_cls")
            unpack = self.const(struct.Struct("<III").unpack, "_u")
            value = f"{cls}(*{unpack}({span}))"
        else:
            cls = self.const(self.classes[dr["name"]], "_cls")
            value = f"_bytes_new({cls}, {span})"
        return [f"{p}{ev} = pos + {dw['size']}", f"{p}{sink(value)}", f"{p}pos = {ev}"]

    def _record(self, dw: Any, dr: Any) -> str:
        key = (dw["name"], dr["name"])
        existing = self.pairs.get(key)
        if existing is not None:
            return existing
        reader_name = dr["name"]
        if reader_name in self.readers and _Same(self.writer, self.reader).same(dw, dr):
            name = self.const(self.readers[reader_name], "_same")
            self.pairs[key] = name
            return name
        planned = self.planned.get(reader_name)
        if planned is not None and not isinstance(planned, types.FunctionType):
            return self._planned_record(dw, dr, key, planned)
        name = self.var("_record")
        self.pairs[key] = name  # before the body: the record may contain itself
        cls = self.classes[reader_name]
        attrs = [f.name for f in dataclasses.fields(cls)]
        if len(attrs) != len(dr["fields"]):
            raise SchemaResolutionError(f"{cls.__name__} does not match {reader_name}")
        by_name: dict[str, tuple[str, Any]] = {}
        for field, attr in zip(dr["fields"], attrs, strict=True):
            by_name[field["name"]] = (attr, field)
        aliases = {
            alias: field["name"] for field in dr["fields"] for alias in field.get("aliases", [])
        }
        cls_name = self.const(cls, "_cls")
        lines = [f"def {name}(data, pos):", f"    o = _new({cls_name})"]
        filled: set[str] = set()
        for wf in dw["fields"]:
            rname = wf["name"] if wf["name"] in by_name else aliases.get(wf["name"])
            if rname is None or rname in filled:
                lines += self.skip(wf["type"], 1)
                continue
            filled.add(rname)
            attr, rf = by_name[rname]
            lines += self.read(wf["type"], rf["type"], _assign(f"o.{attr}"), 1)
        defaults = {f.name: f for f in dataclasses.fields(cls)}
        for rname, (attr, _rf) in by_name.items():
            if rname in filled:
                continue
            spec = defaults[attr]
            if spec.default is not dataclasses.MISSING:
                lines.append(f"    o.{attr} = {self.const(spec.default, '_default')}")
            elif spec.default_factory is not dataclasses.MISSING:
                lines.append(f"    o.{attr} = {self.const(spec.default_factory, '_factory')}()")
            else:
                message = f"No default value for field {rname} in {reader_name}"
                lines.append(f"    raise _fail({message!r})")
        lines.append("    return o, pos")
        self.functions.append(lines)
        return name

    def _planned_record(
        self, dw: Any, dr: Any, key: tuple[str, str], planned: Callable[..., tuple[Any, int]]
    ) -> str:
        """A compiled reader's plan for this writer: its fields of unchanged types read in
        compiled code, the others through functions built here."""
        name = self.var("_record")
        self.pairs[key] = name
        reader_name = dr["name"]
        cls = self.classes[reader_name]
        attrs = [f.name for f in dataclasses.fields(cls)]
        if len(attrs) != len(dr["fields"]):
            raise SchemaResolutionError(f"{cls.__name__} does not match {reader_name}")
        index_of = {f["name"]: i for i, f in enumerate(dr["fields"])}
        aliases = {
            alias: field["name"] for field in dr["fields"] for alias in field.get("aliases", [])
        }
        count = len(attrs)
        plan: list[int] = []
        steps: list[str] = []
        names: list[str] = []
        filled: set[str] = set()
        for wf in dw["fields"]:
            rname = wf["name"] if wf["name"] in index_of else aliases.get(wf["name"])
            if rname is None or rname in filled:
                steps.append(self._step(self.skip(wf["type"], 1), "None"))
                names.append("")
                plan.append(count + len(steps) - 1)
                continue
            filled.add(rname)
            index = index_of[rname]
            rtype = dr["fields"][index]["type"]
            if _Same(self.writer, self.reader).same(wf["type"], rtype):
                plan.append(index)
                continue
            steps.append(self._step(self.read(wf["type"], rtype, _assign("x"), 1), "x"))
            names.append(attrs[index])
            plan.append(count + len(steps) - 1)
        defaults = {f.name: f for f in dataclasses.fields(cls)}
        fill: list[tuple[str, Callable[[], Any]]] = []
        for rname, index in index_of.items():
            if rname in filled:
                continue
            spec = defaults[attrs[index]]
            fill.append((attrs[index], _default_maker(spec, rname, reader_name)))
        args = [
            self.const(planned, "_planned"),
            self.const(tuple(plan), "_plan"),
            self.var("_steps"),
            self.const(tuple(names), "_names"),
            self.const(tuple(fill), "_fill"),
        ]
        self.late.append(f"{args[2]} = ({''.join(f'{s}, ' for s in steps)})")
        self.functions.append(
            [
                f"def {name}(data, pos):",
                f"    return {args[0]}(data, pos, {args[1]}, {args[2]}, {args[3]}, {args[4]})",
            ]
        )
        return name

    def _step(self, body: list[str], result: str) -> str:
        name = self.var("_step")
        self.functions.append([f"def {name}(data, pos):", *body, f"    return {result}, pos"])
        return name

    # -- skipping ---------------------------------------------------------------------

    def skip(self, w: Any, ind: int) -> list[str]:
        """Lines moving ``pos`` past a writer value nobody reads."""
        p = _pad(ind)
        kw, dw = self.writer.node(w)
        if kw == "null":
            return []
        if kw == "boolean":
            return [f"{p}pos += 1"]
        if kw in ("float", "double"):
            return [f"{p}pos += {8 if kw == 'double' else 4}"]
        if kw in ("int", "long", "enum"):
            return [f"{p}_, pos = _read_long(data, pos)"]
        if kw in ("string", "bytes"):
            nv = self.var("n")
            return [f"{p}{nv}, pos = _read_length(data, pos)", f"{p}pos += {nv}"]
        if kw == "fixed":
            return [f"{p}pos += {dw['size']}"]
        if ind >= _NEST_LIMIT and kw in _NESTING:
            return [f"{p}_, pos = {self._step(self.skip(w, 1), 'None')}(data, pos)"]
        if kw == "union":
            nv = self.var("n")
            lines = self._varint(nv, ind)
            keyword = "if"
            for index, branch in enumerate(dw):
                body = self.skip(branch, ind + 1) or [f"{p}    pass"]
                lines += [f"{p}{keyword} {nv} == {index}:", *body]
                keyword = "elif"
            return [*lines, f"{p}else:", f'{p}    raise ValueError(f"union branch {{{nv}}}")']
        if kw in ("array", "map"):
            cv, sv = self.var("n"), self.var("s")
            inner = self.skip(dw["items"], ind + 2) if kw == "array" else []
            if kw == "map":
                kv = self.var("k")
                inner = [
                    f"{_pad(ind + 2)}{kv}, pos = _read_length(data, pos)",
                    f"{_pad(ind + 2)}pos += {kv}",
                    *self.skip(dw["values"], ind + 2),
                ]
            return [
                f"{p}while True:",
                *self._varint(cv, ind + 1),
                f"{p}    if {cv} == 0:",
                f"{p}        break",
                f"{p}    if {cv} < 0:",
                # A block with its byte size: jump over it.
                f"{p}        {sv}, pos = _read_long(data, pos)",
                f"{p}        pos += {sv}",
                f"{p}        continue",
                f"{p}    for _ in range({cv}):",
                *(inner or [f"{_pad(ind + 2)}pass"]),
            ]
        name = self.skips.get(dw["name"])
        if name is None:
            name = self.var("_skip")
            self.skips[dw["name"]] = name
            body = [line for f in dw["fields"] for line in self.skip(f["type"], 1)]
            self.functions.append([f"def {name}(data, pos):", *body, "    return pos"])
        return [f"{p}pos = {name}(data, pos)"]


def _default_maker(spec: dataclasses.Field[Any], field: str, record: str) -> Callable[[], Any]:
    """A function giving the class's default for a reader field the writer lacks."""
    if spec.default is not dataclasses.MISSING:
        value = spec.default
        return lambda: value
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory

    def missing() -> Any:
        raise SchemaResolutionError(f"No default value for field {field} in {record}")

    return missing


def resolving_decoder(
    writer_parsed: Any,
    writer_named: Mapping[str, Any],
    reader_parsed: Any,
    reader_named: Mapping[str, Any],
    classes: Mapping[str, type[Any]],
    readers: Mapping[str, Reader],
    planned: Mapping[str, Callable[..., tuple[Any, int]]] | None = None,
) -> Callable[[bytes], Any]:
    """A function reading data written with the writer schema into the reader's objects.

    Schemas are in fastavro's parsed form with their named types by full name; ``classes``
    maps each reader named type to its generated class, ``readers`` each reader record to
    its specialised same-schema reader, ``planned`` to its plan-following reader (used when
    compiled: the fields of unchanged types are then read in compiled code). Raises
    :class:`SchemaResolutionError` when the schemas cannot resolve at all.
    """
    emitter = _Emitter(
        _Schema(writer_parsed, writer_named),
        _Schema(reader_parsed, reader_named),
        classes,
        readers,
        planned or {},
    )
    body = emitter.read(writer_parsed, reader_parsed, _assign("x"), 1)
    source = [
        "def _decode(data):",
        "    pos = 0",
        *body,
        "    if pos > len(data):",
        "        raise _truncated(pos, data)",
        "    return x",
    ]
    text = "\n\n".join("\n".join(f) for f in [*emitter.functions, source, emitter.late]) + "\n"
    namespace = emitter.ns
    exec(compile(text, "<gen-topics schema resolution>", "exec"), namespace)
    decoder: Callable[[bytes], Any] = namespace["_decode"]
    return decoder
