"""Avro types -> Python annotations, encode/decode expressions and default literals.

One :class:`TypeRenderer` per generated module: it records which imports the rendered
code needs, and collects the union helper functions that module must define.

Encoding produces what fastavro's writer takes; named types inside unions are written
as ``(fullname, value)`` tuples, so the branch is chosen by the value's Python type,
never by its shape. Decoding expects fastavro's reader with ``return_named_type=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from generator.avro.defaults import DefaultValue
from generator.avro.model import (
    ArrayType,
    AvroRegistry,
    AvroType,
    MapType,
    Primitive,
    Ref,
    UnionType,
)
from generator.avro.type_names import PyName
from generator.naming import SUPPORT_MODULE, enum_lookup, module_alias
from generator.source_text import py_bytes, py_string, string_literal

_PRIMITIVE_ANNOTATIONS = {
    "null": "None",
    "boolean": "bool",
    "int": "int",
    "long": "int",
    "float": "float",
    "double": "float",
    "bytes": "bytes",
    "string": "str",
}
_LOGICAL_ANNOTATIONS = {
    "decimal": "_decimal.Decimal",
    "uuid": "_uuid.UUID",
    "date": "_dt.date",
    "time-millis": "_dt.time",
    "time-micros": "_dt.time",
    "timestamp-millis": "_dt.datetime",
    "timestamp-micros": "_dt.datetime",
    "local-timestamp-millis": "_dt.datetime",
    "local-timestamp-micros": "_dt.datetime",
}
_SUPPORT = module_alias((SUPPORT_MODULE,))

#: TypeRenderer.encode or TypeRenderer.decode: (type, expression, depth) -> expression or None.
Convert = Callable[[AvroType, str, int], str | None]


@dataclass
class TypeRenderer:
    """Renders types for one generated module located at ``module`` (parts from the root)."""

    registry: AvroRegistry
    names: dict[str, PyName]
    module: tuple[str, ...]
    stdlib: set[str] = field(default_factory=set)  # "dt", "decimal", "uuid"
    modules: set[tuple[str, ...]] = field(default_factory=set)
    helpers: list[str] = field(default_factory=list)
    typing: set[str] = field(default_factory=set)  # names the module imports from typing
    _helper_ids: dict[str, str] = field(default_factory=dict)

    # -- names -------------------------------------------------------------------------

    def class_ref(self, fullname: str) -> str:
        """How this module spells the class of named type ``fullname``."""
        py = self.names[fullname]
        if py.module == self.module:
            return py.name
        self.modules.add(py.module)
        return f"{module_alias(py.module)}.{py.name}"

    def _enum_lookup(self, fullname: str) -> str:
        py = self.names[fullname]
        lookup = enum_lookup(py.name)
        if py.module == self.module:
            return lookup
        self.modules.add(py.module)
        return f"{module_alias(py.module)}.{lookup}"

    def support(self) -> str:
        """The alias of the support module (Duration, the codec class)."""
        self.modules.add((SUPPORT_MODULE,))
        return _SUPPORT

    def typing_name(self, name: str) -> str:
        """``name`` from :mod:`typing`, recorded as an import of this module."""
        self.typing.add(name)
        return name

    def _logical(self, annotation: str) -> str:
        self.stdlib.add(annotation[1:].split(".", 1)[0])
        return annotation

    # -- annotations -------------------------------------------------------------------

    def annotation(self, t: AvroType) -> str:
        """The Python type annotation for ``t``."""
        if isinstance(t, Primitive):
            if t.logical is not None:
                return self._logical(_LOGICAL_ANNOTATIONS[t.logical])
            return _PRIMITIVE_ANNOTATIONS[t.name]
        if isinstance(t, Ref):
            nt = self.registry.named(t)
            if nt.logical == "decimal":
                return self._logical("_decimal.Decimal")
            if nt.logical == "duration":
                return f"{self.support()}.Duration"
            return self.class_ref(nt.fullname)
        if isinstance(t, ArrayType):
            return f"list[{self.annotation(t.items)}]"
        if isinstance(t, MapType):
            return f"dict[str, {self.annotation(t.values)}]"
        parts: list[str] = []
        for branch in t.branches:
            ann = self.annotation(branch)
            if ann not in parts:
                parts.append(ann)
        if "None" in parts:
            parts.remove("None")
            parts.append("None")
        return " | ".join(parts)

    # -- encoding ----------------------------------------------------------------------

    def encode(self, t: AvroType, x: str, depth: int = 0) -> str | None:
        """Expression turning ``x`` into fastavro's input, or ``None`` when ``x`` is fine as is."""
        if isinstance(t, Primitive):
            return None
        if isinstance(t, Ref):
            nt = self.registry.named(t)
            if nt.kind == "record" or nt.logical == "duration":
                return f"{x}.to_avro()"
            return None
        if isinstance(t, (ArrayType, MapType)):
            return self._container(t, x, depth, self.encode)
        return self._encode_union(t, x, depth)

    def _tagged(self, t: AvroType, x: str, depth: int) -> str:
        """The union-branch form of ``x``: named types as (fullname, value)."""
        inner = self.encode(t, x, depth) or x
        if isinstance(t, Ref):
            return f'("{t.fullname}", {inner})'
        return inner

    def _encode_union(self, t: UnionType, x: str, depth: int) -> str | None:
        others = self._converted_branches(t, self.encode)
        if others is None:
            return None
        if len(t.branches) == 2 and len(others) == 1:
            return f"(None if {x} is None else {self._tagged(others[0], x, depth)})"
        return f"{self._union_helper('enc', t)}({x})"

    # -- decoding ----------------------------------------------------------------------

    def decode(self, t: AvroType, x: str, depth: int = 0) -> str | None:
        """Expression turning fastavro's output ``x`` into the Python value, or ``None``."""
        if isinstance(t, Primitive):
            return None
        if isinstance(t, Ref):
            nt = self.registry.named(t)
            if nt.kind == "record":
                return f"{self.class_ref(nt.fullname)}.from_avro({x})"
            if nt.logical == "decimal":
                return None
            if nt.logical == "duration":
                return f"{self.support()}.Duration.from_avro({x})"
            if nt.kind == "enum":
                return f"{self._enum_lookup(nt.fullname)}[{x}]"
            return f"{self.class_ref(nt.fullname)}({x})"
        if isinstance(t, (ArrayType, MapType)):
            return self._container(t, x, depth, self.decode)
        others = self._converted_branches(t, self.decode)
        if others is None:
            return None
        if len(t.branches) == 2 and len(others) == 1 and isinstance(others[0], Ref):
            inner = self.decode(others[0], f"{x}[1]", depth) or f"{x}[1]"
            return f"(None if {x} is None else {inner})"
        return f"{self._union_helper('dec', t)}({x})"

    # -- shared by encoding and decoding ----------------------------------------------

    def _container(
        self, t: ArrayType | MapType, x: str, depth: int, convert: Convert
    ) -> str | None:
        """A comprehension converting each item of array or map ``x``, or ``None``."""
        inner_t = t.items if isinstance(t, ArrayType) else t.values
        v = f"v{depth}"
        inner = convert(inner_t, v, depth + 1)
        if inner is None:
            return None
        if isinstance(t, ArrayType):
            return f"[{inner} for {v} in {x}]"
        return f"{{k{depth}: {inner} for k{depth}, {v} in {x}.items()}}"

    def _converted_branches(self, t: UnionType, convert: Convert) -> list[AvroType] | None:
        """The non-null branches of ``t``, or ``None`` when no branch needs converting.

        Named branches always count: fastavro tags them as ``(fullname, value)`` pairs.
        """
        named = [b for b in t.branches if isinstance(b, Ref)]
        converting = [
            b for b in t.branches if not isinstance(b, Ref) and convert(b, "v", 0) is not None
        ]
        if not named and not converting:
            return None
        return [b for b in t.branches if not (isinstance(b, Primitive) and b.name == "null")]

    # -- union helpers -----------------------------------------------------------------

    def _union_helper(self, kind: str, t: UnionType) -> str:
        key = f"{kind}:{_union_key(t)}"
        existing = self._helper_ids.get(key)
        if existing is not None:
            return existing
        name = f"_{kind}_union_{len(self._helper_ids)}"
        self._helper_ids[key] = name
        ann = self.annotation(t)
        lines = (
            self._encode_helper(name, ann, t)
            if kind == "enc"
            else self._decode_helper(name, ann, t)
        )
        self.helpers.append("\n".join(lines))
        return name

    def _encode_helper(self, name: str, ann: str, t: UnionType) -> list[str]:
        checks: dict[str, AvroType] = {}
        for branch in t.branches:
            if isinstance(branch, Ref):
                check = self.annotation(branch)  # a class: Decimal, Duration or generated
            elif isinstance(branch, ArrayType) and self.encode(branch, "v") is not None:
                check = "list"
            elif isinstance(branch, MapType) and self.encode(branch, "v") is not None:
                check = "dict"
            else:
                continue
            checks.setdefault(check, branch)
        # When every branch has a check, the last one cannot fail after the others: a type
        # checker (pyright strict) reports such an isinstance as unnecessary, so it is dropped.
        covered = len(checks) == len({self.annotation(b) for b in t.branches})
        lines = [f"def {name}(v: {ann}) -> Any:"]
        for i, (check, branch) in enumerate(checks.items()):
            if covered and i == len(checks) - 1:
                lines.append(f"    return {self._tagged(branch, 'v', 1)}")
                return lines
            lines.append(f"    if isinstance(v, {check}):")
            lines.append(f"        return {self._tagged(branch, 'v', 1)}")
        lines.append("    return v")
        return lines

    def _decode_helper(self, name: str, ann: str, t: UnionType) -> list[str]:
        lines = [f"def {name}(v: Any) -> {ann}:"]
        named: list[Ref] = [b for b in t.branches if isinstance(b, Ref)]
        if named:
            lines.append("    if type(v) is tuple:")
            # fastavro's (fullname, value) pair; cast because `type(v) is tuple` narrows to
            # tuple[Unknown, ...], which pyright strict rejects.
            lines.append(f'        name, value = {self.typing_name("cast")}("tuple[str, Any]", v)')
            for ref in named:
                tagged = self.decode(ref, "value", 1) or "value"
                lines.append(f'        if name == "{ref.fullname}":')
                lines.append(f"            return {tagged}")
            lines.append('        raise ValueError(f"unexpected union branch {name!r}")')
        for branch in t.branches:
            if isinstance(branch, (ArrayType, MapType)) and self.decode(branch, "v") is not None:
                check = "list" if isinstance(branch, ArrayType) else "dict"
                # The narrowed list[Unknown] / dict[Unknown, Unknown] fails pyright strict, and
                # mypy calls a cast to list[Any] redundant; a cast to Any satisfies both.
                items_v = f'{self.typing_name("cast")}("Any", v)'
                lines.append(f"    if type(v) is {check}:")
                lines.append(f"        return {self.decode(branch, items_v, 1)}")
        lines.append("    return v")
        return lines

    # -- defaults ----------------------------------------------------------------------

    def literal(
        self, dv: DefaultValue, field_names: dict[str, dict[str, str]], *, field: bool = False
    ) -> str:
        """Python source for a default value; ``field_names[fullname][avro] = python``.

        ``field``: the default of a dataclass field, where a long string may be written as
        an indented concatenation; anywhere else it stays one literal (a long line, which the
        formatter wraps)."""
        kind = dv.kind
        if kind == "plain":
            if isinstance(dv.value, str):
                return py_string(dv.value, "        ") if field else string_literal(dv.value)
            return py_bytes(dv.value) if isinstance(dv.value, bytes) else repr(dv.value)
        if kind == "decimal":
            return f'{self._logical("_decimal.Decimal")}("{dv.value}")'
        if kind == "uuid":
            return f'{self._logical("_uuid.UUID")}("{dv.value}")'
        if kind == "date":
            d = dv.value
            return f"{self._logical('_dt.date')}({d.year}, {d.month}, {d.day})"
        if kind == "time":
            t = dv.value
            return f"{self._logical('_dt.time')}({t.hour}, {t.minute}, {t.second}, {t.microsecond})"
        if kind == "datetime":
            s = dv.value
            tz = ", tzinfo=_dt.UTC" if s.tzinfo is not None else ""
            return (
                f"{self._logical('_dt.datetime')}({s.year}, {s.month}, {s.day}, {s.hour}, "
                f"{s.minute}, {s.second}, {s.microsecond}{tz})"
            )
        if kind == "enum":
            return f"{self.class_ref(dv.name)}.{field_names[dv.name][dv.value]}"
        if kind == "fixed":
            return f"{self.class_ref(dv.name)}({py_bytes(dv.value)})"
        if kind == "duration":
            months, days, millis = dv.value
            return f"{self.support()}.Duration({months}, {days}, {millis})"
        if kind == "list":
            return "[" + ", ".join(self.literal(v, field_names) for _, v in dv.items) + "]"
        if kind == "dict":
            return (
                "{"
                + ", ".join(
                    f"{string_literal(k)}: {self.literal(v, field_names)}" for k, v in dv.items
                )
                + "}"
            )
        args = ", ".join(
            f"{field_names[dv.name][k]}={self.literal(v, field_names)}" for k, v in dv.items
        )
        return f"{self.class_ref(dv.name)}({args})"

    def needs_factory(self, dv: DefaultValue) -> bool:
        """Mutable defaults, and names from other modules (import cycles), need a factory."""
        if dv.kind in ("list", "dict", "record", "uuid"):
            return True
        if dv.kind in ("enum", "fixed"):
            return self.names[dv.name].module != self.module
        return dv.kind == "duration"


def _union_key(t: AvroType) -> str:
    if isinstance(t, Primitive):
        return f"{t.name}/{t.logical}"
    if isinstance(t, Ref):
        return t.fullname
    if isinstance(t, ArrayType):
        return f"array<{_union_key(t.items)}>"
    if isinstance(t, MapType):
        return f"map<{_union_key(t.values)}>"
    return "[" + ",".join(_union_key(b) for b in t.branches) + "]"
