"""Parse every ``.avsc`` file under a folder into ONE registry of named types.

Like Avro Java's ParseContext, references may point to names defined later or in other
files: definitions are collected first, references are resolved once all files are read.
Problems are reported as ``file:line: message (at $.json.path)``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from generator.avro.defaults import check_default
from generator.avro.model import (
    LOGICAL_ON_PRIMITIVE,
    NAMED_KINDS,
    PRIMITIVES,
    ArrayType,
    AvroRegistry,
    AvroType,
    Field,
    MapType,
    NamedType,
    Primitive,
    Ref,
    SchemaFile,
    UnionType,
    direct_refs,
)
from generator.errors import GeneratorError, ProblemCollector
from generator.input_files import read_input, relative_names
from generator.json_input import parse_json
from generator.json_lines import line_of
from generator.suggest import did_you_mean

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class _FileParser:
    """Parses one file's JSON into model types, registering named types as it goes."""

    def __init__(self, registry: AvroRegistry, sf: SchemaFile, problems: ProblemCollector) -> None:
        self.registry = registry
        self.sf = sf
        self.problems = problems
        self.refs: list[Ref] = []

    def error(self, json_path: str, message: str) -> None:
        line = line_of(self.sf.text, json_path)
        self.problems.add(self.sf.path, line, f"{message} (at {json_path})")

    def parse(self, obj: Any, ns: str, path: str) -> AvroType:
        if isinstance(obj, str):
            return self._name_or_primitive(obj, ns, path)
        if isinstance(obj, list):
            return self._union(obj, ns, path)
        if isinstance(obj, dict):
            return self._object(obj, ns, path)
        self.error(path, f"a schema must be a type name, an object or a union array, got {obj!r}")
        return Primitive("null")

    def _name_or_primitive(self, name: str, ns: str, path: str) -> AvroType:
        if name in PRIMITIVES:
            return Primitive(name)
        if name in NAMED_KINDS or name in ("array", "map"):
            self.error(path, f'{name!r} must be written as an object with "type": {name!r}')
            return Primitive("null")
        if not all(_NAME.match(part) for part in name.split(".")):
            self.error(path, f"invalid type name {name!r}")
            return Primitive("null")
        if "." in name or not ns:
            ref = Ref(name, None, self.sf.path, path)
        else:
            ref = Ref(f"{ns}.{name}", name, self.sf.path, path)
        self.refs.append(ref)
        return ref

    def _union(self, branches: list[Any], ns: str, path: str) -> AvroType:
        parsed: list[AvroType] = []
        seen: set[str] = set()
        for index, branch in enumerate(branches):
            bpath = f"{path}[{index}]"
            if isinstance(branch, list):
                self.error(bpath, "a union may not directly contain another union")
                continue
            t = self.parse(branch, ns, bpath)
            key = _branch_key(t)
            if key in seen:
                self.error(bpath, f"duplicate {key!r} branch in union")
            seen.add(key)
            parsed.append(t)
        if not parsed:
            self.error(path, "a union needs at least one branch")
            return Primitive("null")
        return UnionType(tuple(parsed))

    def _object(self, obj: dict[str, Any], ns: str, path: str) -> AvroType:
        if "type" not in obj:
            self.error(path, 'schema object has no "type"')
            return Primitive("null")
        kind = obj["type"]
        if isinstance(kind, (dict, list)):
            return self.parse(kind, ns, f"{path}.type")
        if not isinstance(kind, str):
            self.error(f"{path}.type", f'"type" must be a string, got {kind!r}')
            return Primitive("null")
        if kind in PRIMITIVES:
            return self._primitive(kind, obj, path)
        if kind in NAMED_KINDS:
            return self._define(kind, obj, ns, path)
        if kind == "array":
            if "items" not in obj:
                self.error(path, 'array has no "items"')
                return Primitive("null")
            return ArrayType(self.parse(obj["items"], ns, f"{path}.items"))
        if kind == "map":
            if "values" not in obj:
                self.error(path, 'map has no "values"')
                return Primitive("null")
            return MapType(self.parse(obj["values"], ns, f"{path}.values"))
        self.error(
            f"{path}.type",
            f"unknown type {kind!r} in an object; a named type reference is written as the bare "
            f'name {kind!r}, not wrapped in {{"type": ...}}',
        )
        return Primitive("null")

    def _primitive(self, kind: str, obj: dict[str, Any], path: str) -> Primitive:
        logical = obj.get("logicalType")
        # Per the Avro spec, an invalid or unknown logical type falls back to its base type.
        if not isinstance(logical, str) or logical not in LOGICAL_ON_PRIMITIVE.get(kind, ()):
            return Primitive(kind)
        if logical == "decimal":
            params = _decimal_params(obj, None)
            if isinstance(params, str):
                self.error(path, params)
                return Primitive(kind)
            return Primitive(kind, logical, *params)
        return Primitive(kind, logical)

    def _define(self, kind: str, obj: dict[str, Any], ns: str, path: str) -> AvroType:
        name = obj.get("name")
        if not isinstance(name, str) or not name:
            self.error(path, f'{kind} has no "name"')
            return Primitive("null")
        own_ns = obj.get("namespace")
        if own_ns is not None and not isinstance(own_ns, str):
            self.error(f"{path}.namespace", f"namespace must be a string, got {own_ns!r}")
            own_ns = None
        if "." in name:
            namespace, short = name.rsplit(".", 1)
        else:
            namespace, short = (own_ns if own_ns is not None else ns), name
        for part in [short, *(namespace.split(".") if namespace else [])]:
            if not _NAME.match(part):
                self.error(path, f"invalid name {part!r} in {kind} {name!r}")
                return Primitive("null")
        fullname = f"{namespace}.{short}" if namespace else short
        if short in PRIMITIVES and not namespace:
            self.error(path, f"{kind} name {short!r} is a primitive type name")
        written_aliases = obj.get("aliases", [])
        # Only the shape is checked: real schemas (and fastavro) use aliases that are not
        # valid names, and gen-topics only carries them along.
        if not isinstance(written_aliases, list) or not all(
            isinstance(a, str) for a in written_aliases
        ):
            self.error(
                f"{path}.aliases",
                f"aliases of {kind} {name!r} must be an array of name strings, "
                f"got {written_aliases!r}",
            )
            written_aliases = []
        aliases = tuple(
            a if "." in a or not namespace else f"{namespace}.{a}" for a in written_aliases
        )
        doc = obj.get("doc") if isinstance(obj.get("doc"), str) else None
        nt = NamedType(
            kind="record" if kind == "error" else kind,
            fullname=fullname,
            name=short,
            namespace=namespace,
            doc=doc,
            aliases=aliases,
            file=self.sf.path,
            json_path=path,
            definition=obj,
        )
        self._register(nt, path)
        if kind in ("record", "error"):
            self._fields(nt, obj, namespace, path)
        elif kind == "enum":
            self._enum(nt, obj, path)
        else:
            self._fixed(nt, obj, path)
        return Ref(fullname, None, self.sf.path, path)

    def _register(self, nt: NamedType, path: str) -> None:
        self.sf.defined.append(nt.fullname)
        existing = self.registry.types.get(nt.fullname)
        if existing is None:
            self.registry.types[nt.fullname] = nt
            return
        if existing.file == nt.file:
            self.error(path, f"{nt.fullname!r} is defined twice in this file")
            return
        if _signature(existing) != _signature(nt):
            self.error(
                path,
                f"{nt.fullname!r} is defined differently in {existing.file} (at "
                f"{existing.json_path}); a name must have one definition across all files",
            )

    def _fields(self, nt: NamedType, obj: dict[str, Any], ns: str, path: str) -> None:
        fields = obj.get("fields")
        if not isinstance(fields, list):
            self.error(path, f'record {nt.fullname!r} needs a "fields" array')
            return
        names: set[str] = set()
        for index, f in enumerate(fields):
            fpath = f"{path}.fields[{index}]"
            if not isinstance(f, dict):
                self.error(fpath, 'a field must be an object with "name" and "type"')
                continue
            fname = f.get("name")
            if not isinstance(fname, str) or not _NAME.match(fname):
                self.error(fpath, f"invalid field name {fname!r}")
                continue
            if fname in names:
                self.error(fpath, f"duplicate field {fname!r} in record {nt.fullname!r}")
                continue
            names.add(fname)
            if "type" not in f:
                self.error(fpath, f'field {fname!r} has no "type"')
                continue
            ftype = self.parse(f["type"], ns, f"{fpath}.type")
            doc = f.get("doc") if isinstance(f.get("doc"), str) else None
            nt.fields.append(Field(fname, ftype, "default" in f, f.get("default"), doc, fpath))

    def _enum(self, nt: NamedType, obj: dict[str, Any], path: str) -> None:
        symbols = obj.get("symbols")
        if not isinstance(symbols, list) or not symbols:
            self.error(path, f'enum {nt.fullname!r} needs a non-empty "symbols" array')
            return
        for index, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or not _NAME.match(symbol):
                self.error(f"{path}.symbols[{index}]", f"invalid enum symbol {symbol!r}")
                return
        if len(set(symbols)) != len(symbols):
            self.error(f"{path}.symbols", f"duplicate symbols in enum {nt.fullname!r}")
            return
        nt.symbols = tuple(symbols)
        if "default" in obj:
            default = obj["default"]
            if default not in symbols:
                self.error(
                    f"{path}.default",
                    f"enum default {default!r} is not one of the symbols {symbols}"
                    + did_you_mean(str(default), symbols),
                )
            else:
                nt.enum_default = default

    def _fixed(self, nt: NamedType, obj: dict[str, Any], path: str) -> None:
        size = obj.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            self.error(path, f'fixed {nt.fullname!r} needs a non-negative integer "size"')
            return
        nt.size = size
        logical = obj.get("logicalType")
        if logical == "duration" and size == 12:
            nt.logical = "duration"
        elif logical == "decimal":
            params = _decimal_params(obj, size)
            if isinstance(params, str):
                self.error(path, params)
            else:
                nt.logical, (nt.precision, nt.scale) = "decimal", params


def _decimal_params(obj: dict[str, Any], size: int | None) -> tuple[int, int] | str:
    """(precision, scale), or what is wrong.

    The Avro spec says to ignore an invalid decimal, but fastavro (the runtime) can then
    neither read nor write the field, so gen-topics rejects it up front.
    """
    precision, scale = obj.get("precision"), obj.get("scale", 0)
    if not isinstance(precision, int) or isinstance(precision, bool) or precision < 1:
        return f"decimal needs an integer precision >= 1, got {precision!r}"
    if not isinstance(scale, int) or isinstance(scale, bool) or not 0 <= scale <= precision:
        return (
            f"decimal scale must be an integer from 0 to the precision {precision}, got {scale!r}"
        )
    if size is not None and not _decimal_fits(precision, size):
        return f"decimal precision {precision} does not fit in a fixed of {size} bytes"
    return precision, scale


def _decimal_fits(precision: int, size: int) -> bool:
    """Whether ``precision`` digits fit a signed ``size``-byte two's complement number.

    The spec's bound is floor(log10(2**(8*size-1) - 1)) digits. ``10**p <= 2**b - 1`` holds
    exactly when ``10**p`` has at most ``b`` bits; comparing bit lengths avoids turning huge
    numbers into decimal strings (slow, and limited to 4300 digits in Python).
    """
    bits = 8 * size - 1
    if bits < 1:
        return False
    estimate = precision * math.log2(10)
    if abs(estimate - bits) > 1 or precision > 100_000:
        return estimate < bits
    power: int = 10**precision
    return power.bit_length() <= bits


def _branch_key(t: AvroType) -> str:
    if isinstance(t, Primitive):
        return t.name
    if isinstance(t, Ref):
        return t.fullname
    if isinstance(t, ArrayType):
        return "array"
    if isinstance(t, MapType):
        return "map"
    return "union"


def _signature(nt: NamedType) -> str:
    """What makes two definitions of one name 'the same': everything but docs, read the way
    Avro reads names. Names are fully qualified, and a named type defined inside counts as a
    reference to it (it is registered, and compared, on its own), so a definition that
    inherits its namespace, or that defines inside what another one refers to by name, is the
    same definition."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in sorted(value.items()) if k != "doc"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    def qualify(name: str, ns: str) -> str:
        if "." in name or not ns or name in PRIMITIVES or name in _KINDS:
            return name
        return f"{ns}.{name}"

    def fullname(obj: dict[str, Any], ns: str) -> str:
        name: str = obj["name"]
        if "." in name:
            return name
        own = obj.get("namespace")
        space = own if isinstance(own, str) else ns
        return f"{space}.{name}" if space else name

    def schema(value: Any, ns: str) -> Any:
        if isinstance(value, str):
            return qualify(value, ns)
        if isinstance(value, list):
            return [schema(v, ns) for v in value]
        if not isinstance(value, dict):
            return value
        if value.get("type") in (*NAMED_KINDS, "error") and isinstance(value.get("name"), str):
            return fullname(value, ns)
        return {
            k: schema(v, ns) if k in ("type", "items", "values") else strip(v)
            for k, v in sorted(value.items())
            if k != "doc"
        }

    ns = nt.namespace
    out: dict[str, Any] = {}
    for key, value in sorted(nt.definition.items()):
        if key in ("doc", "namespace"):
            continue
        if key == "name":
            out[key] = nt.fullname
        elif key == "type":
            out[key] = nt.kind
        elif key == "fields" and isinstance(value, list):
            out[key] = [
                {
                    k: schema(v, ns) if k == "type" else strip(v)
                    for k, v in sorted(f.items())
                    if k != "doc"
                }
                if isinstance(f, dict)
                else f
                for f in value
            ]
        else:
            out[key] = strip(value)
    return json.dumps(out, sort_keys=True)


_KINDS = frozenset({"record", "error", "enum", "fixed", "array", "map"})


def load_avro(root: Path, files: Iterable[Path]) -> AvroRegistry:
    """Parse ``files`` (paths under ``root``) into one resolved, validated registry.

    Raises :class:`GeneratorError` listing every problem found.
    """
    problems = ProblemCollector()
    registry = read_avro(root, files, problems)
    problems.raise_if_any()
    return registry


def read_avro(
    root: Path,
    files: Iterable[Path],
    problems: ProblemCollector,
    extra: Sequence[tuple[str, str]] = (),
) -> AvroRegistry:
    """Parse ``files`` into one registry, recording every problem in ``problems``.

    ``extra`` adds schemas that are not ``.avsc`` files, as (name, JSON text) pairs: the Avro
    schemas inside AsyncAPI documents. They are parsed after the files, into the same registry.

    The registry is returned even when problems were found, so that later checks (topic
    descriptors) still run; named types of files with problems may then be missing or partial.
    """
    registry = AvroRegistry()
    before = len(problems.problems)
    parsers: list[_FileParser] = []
    paths = list(files)
    sources = sorted(zip(relative_names(paths, root), paths, strict=True))
    inputs: list[tuple[str, Path | str]] = [*sources, *extra]
    for rel, source in inputs:
        try:
            text = read_input(source, rel) if isinstance(source, Path) else source
            if "/" in text:
                text = _strip_comments(text)
            obj = parse_json(text, rel)
        except GeneratorError as exc:
            problems.extend(exc)
            continue
        sf = SchemaFile(rel, text, Primitive("null"))
        parser = _FileParser(registry, sf, problems)
        sf.top = parser.parse(obj, "", "$")
        registry.files[rel] = sf
        parsers.append(parser)
    for parser in parsers:
        for ref in parser.refs:
            _resolve(registry, parser, ref)
    broken = {p.file for p in problems.problems[before:]}
    _check_defaults(registry, problems, sound_types(registry, broken))
    return registry


def sound_types(registry: AvroRegistry, broken_files: set[str]) -> set[str]:
    """Full names of the named types that, with every type they reach, come from files
    without problems: only those can be checked further without follow-on errors."""
    refs = {name: _named_refs(nt) for name, nt in registry.types.items()}
    unsound = {name for name, nt in registry.types.items() if nt.file in broken_files}
    changed = True
    while changed:  # spread unsoundness to every type that reaches an unsound or missing one
        changed = False
        for name, reached in refs.items():
            if name not in unsound and any(r in unsound or r not in refs for r in reached):
                unsound.add(name)
                changed = True
    return set(refs) - unsound


def _named_refs(nt: NamedType) -> set[str]:
    return {ref.fullname for f in nt.fields for ref in direct_refs(f.type)}


def _strip_comments(text: str) -> str:
    """Blank out ``/* */`` and ``//`` comments outside strings, keeping line numbers.

    Avro's Java parser accepts comments in .avsc files (Jackson ALLOW_COMMENTS), and
    real-world schemas (e.g. Apache Hudi's) start with a license comment.
    """
    out: list[str] = []
    i, n, in_string = 0, len(text), False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:end]))
            i = end
            continue
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _resolve(registry: AvroRegistry, parser: _FileParser, ref: Ref) -> None:
    if ref.fullname not in registry.types and ref.fallback in registry.types:
        # Avro Java resolves an unqualified name in the null namespace when the enclosing
        # namespace does not define it.
        ref.fullname = ref.fallback
    if ref.fullname in registry.types:
        parser.sf.referenced.add(ref.fullname)
        return
    # Suggest from what was written (a short name resolves into the enclosing namespace),
    # among named types and primitives: "strin" in namespace x should point to "string".
    written = ref.fallback or ref.fullname
    parser.error(
        ref.json_path,
        f"unknown type {ref.fullname!r}" + did_you_mean(written, [*PRIMITIVES, *registry.types]),
    )


def _check_defaults(registry: AvroRegistry, problems: ProblemCollector, sound: set[str]) -> None:
    for nt in registry.types.values():
        if nt.fullname not in sound:
            continue
        for f in nt.fields:
            if not f.has_default:
                continue
            message = check_default(f.type, f.default, registry)
            if message is not None:
                text = registry.files[nt.file].text
                problems.add(
                    nt.file,
                    line_of(text, f"{f.json_path}.default"),
                    f"field {f.name!r} of {nt.fullname!r}: invalid default {f.default!r}: "
                    f"{message} (at {f.json_path}.default)",
                )
